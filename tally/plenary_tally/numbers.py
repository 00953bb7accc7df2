"""Numbers as `outcomes.json` writes them, so that every machine writes the same bytes.

Everything that can be computed exactly is: counts, scores, μ, thresholds, shares, margins, the
1-D clustering and its silhouettes are rationals (`fractions.Fraction`), never floats. They are
written in one of two forms (docs/tally-format.md, "Numbers"):

- **exact**: a whole number as a JSON integer, any other rational as a JSON string `"p/q"` in
  lowest terms with `q > 1` and the sign on `p` (`7`, `"7/3"`, `"-1/2"`);
- **rounded**: a JSON number with at most 6 decimals, the exact value rounded half to even, for
  figures that people read but no outcome depends on (cluster centres, silhouettes, coordinates).

A number in `ballot.json` (a band's `min`, a majority threshold) is read as the decimal it is
written as: `0.667` is 667/1000, not the binary float nearest to it.
"""

import functools
from fractions import Fraction
from typing import Any

PLACES = 6  # the decimals of a rounded number


def exact(value: Any) -> Fraction:
    """The rational a JSON value stands for: an integer, a `"p/q"` string, or a decimal as written."""
    if type(value) is Fraction:
        return value  # immutable: no copy needed
    if isinstance(value, bool):
        raise TypeError(f"{value!r} is not a number")
    if isinstance(value, int | Fraction):
        return Fraction(value)
    if isinstance(value, float | str):
        return _parsed(value)
    raise TypeError(f"{value!r} is not a number")


@functools.lru_cache(maxsize=4096, typed=True)
def _parsed(value: float | str) -> Fraction:
    """A decimal or `"p/q"` read once: a methodology's thresholds are read for every score a tally compares."""
    if isinstance(value, float):
        return Fraction(repr(value))  # the shortest decimal that reads back as this float: the one written
    return Fraction(value)


def written(value: Fraction | int) -> int | str:
    """A rational in its exact form: a JSON integer when whole, else `"p/q"`."""
    value = Fraction(value)
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def rounded(value: Fraction | int | float, places: int = PLACES) -> float | int:
    """A number in its rounded form: at most `places` decimals, half to even; whole numbers as integers."""
    fraction = round(Fraction(value), places)
    return fraction.numerator if fraction.denominator == 1 else float(fraction)


def shown(value: Any, places: int = 2) -> str:
    """A number of outcomes.json as people read it on a page: a decimal with at most `places` decimals."""
    if value is None:
        return ""
    text = f"{float(round(exact(value), places)):.{places}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
