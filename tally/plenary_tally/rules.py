"""A ballot's analysis settings, its methodology and its clustering, and the one check of each.

The web form, `votes.services.create_ballot` and the bundle reader all pass the settings through
`check_methodology` and `check_clustering`, so a ballot refused in one place is refused in all.
A problem is a `RulesError`: where it is within the settings, as a JSON path such as
`bands[1].min`, and a sentence saying what is wrong that each caller shows in its own terms.
"""

import json
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

RULES = ("mean-bands", "majority")
K_RANGE = range(2, 7)  # the numbers of clusters offered; silhouettes are computed for the same k
SEED_RANGE = range(2**32)  # the random states k-means takes
MAX_BAND_MIN = 10**6  # a band's minimum, a multiple of the mean score μ, at most this far from 0
DEFAULT_CLUSTERING = {"k": 2, "seed": 42}


class RulesError(ValueError):
    """What is wrong with the settings: `path` within them ('' for the whole), a sentence, the band if one."""

    def __init__(self, path: str, message: str, *, band: int | None = None) -> None:
        super().__init__(path, message)
        self.path, self.message, self.band = path, message, band

    def __str__(self) -> str:
        return f"Band {self.band + 1}: {self.message}" if self.band is not None else self.message


def check_methodology(methodology: Any) -> None:
    """Refuse a methodology the analysis could not run."""
    if not isinstance(methodology, Mapping):
        raise RulesError("", f"The methodology must be an object with a rule{_not(methodology)}.")
    rule = methodology.get("rule")
    if rule not in RULES:
        raise RulesError("rule", f"The methodology rule must be one of {', '.join(RULES)}{_not(rule)}.")
    if rule == "mean-bands":
        _check_bands(methodology)
    else:
        _check_majority(methodology)


def check_clustering(clustering: Any) -> None:
    """Refuse clustering settings k-means could not run with, or that the analysis does not offer."""
    if not isinstance(clustering, Mapping):
        raise RulesError("", f"The clustering settings must be an object with k and a seed{_not(clustering)}.")
    k, seed = clustering.get("k"), clustering.get("seed")
    if not _whole(k) or k not in K_RANGE:
        raise RulesError(
            "k", f"Clustering needs a whole number of clusters k from {K_RANGE[0]} to {K_RANGE[-1]}{_not(k)}."
        )
    if not _whole(seed) or seed not in SEED_RANGE:
        raise RulesError("seed", f"The clustering seed is a whole number from 0 to {SEED_RANGE[-1]}{_not(seed)}.")


def _check_bands(methodology: Mapping) -> None:
    bands = methodology.get("bands")
    if not isinstance(bands, list) or not bands:
        raise RulesError("bands", "mean-bands needs bands, at least one, each with a number `min` and a `label`.")
    for i, band in enumerate(bands):
        path = f"bands[{i}]"
        if not isinstance(band, Mapping):
            raise RulesError(path, "A band must be an object with a number `min` and a `label`.", band=i)
        minimum = band.get("min")
        if not _number(minimum):
            raise RulesError(
                f"{path}.min", f"A band needs a number as its minimum, such as 1.5{_not(minimum)}.", band=i
            )
        if isinstance(minimum, float) and not math.isfinite(minimum):
            raise RulesError(f"{path}.min", f"A band needs a finite number as its minimum, not {minimum}.", band=i)
        if abs(minimum) > MAX_BAND_MIN:
            raise RulesError(
                f"{path}.min",
                f"The minimum of a band is a multiple of the mean score μ, from {-MAX_BAND_MIN} to {MAX_BAND_MIN}; "
                f"{_shown(minimum)} is beyond that.",
                band=i,
            )
        if not _text(band.get("label")):
            raise RulesError(f"{path}.label", "A band needs a label, the name of its outcome (such as Yes).", band=i)
    mins = [band["min"] for band in bands]
    if mins != sorted(mins, reverse=True) or len(set(mins)) != len(mins):
        raise RulesError("bands", "Bands go from the highest minimum to the lowest, each minimum once.")
    if not _text(methodology.get("otherwise")):
        raise RulesError("otherwise", "mean-bands needs an `otherwise` label for scores below every band.")


def _check_majority(methodology: Mapping) -> None:
    threshold = methodology.get("threshold")
    if not _number(threshold) or not 0 < threshold <= 1:  # NaN is refused too: it compares false
        raise RulesError(
            "threshold",
            f"majority needs a threshold more than 0 and at most 1, such as 0.5 or 0.667{_not(threshold)}.",
        )
    labels = methodology.get("labels")
    if labels is None:
        return
    if not isinstance(labels, Mapping):
        raise RulesError("labels", f"majority labels must map each outcome to its label{_not(labels)}.")
    for outcome, label in labels.items():
        if not isinstance(outcome, str) or not _text(label):
            raise RulesError(f"labels.{outcome}", f"The label for {_shown(outcome)} must be a non-empty text.")


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _not(value: Any) -> str:
    """The end of a sentence, `, not VALUE`; nothing when the value is missing."""
    return "" if value is None else f", not {_shown(value)}"


def _shown(value: Any) -> str:
    """The value as JSON writes it, cut short; a whole number too long to show by its digits."""
    if _whole(value) and value.bit_length() > 128:
        return f"a whole number of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    try:
        shown = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:39]}…"
