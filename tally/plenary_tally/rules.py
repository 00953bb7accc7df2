"""A ballot's analysis settings, its methodology and its clustering, and the one check of each.

The web form, `votes.services.create_ballot` and the bundle reader all pass the settings through
`check_methodology` and `check_clustering`, so a ballot refused in one place is refused in all.
A problem is a `RulesError`: where it is within the settings, as a JSON path such as
`bands[1].min`, and a sentence saying what is wrong that each caller shows in its own terms.
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeGuard

from .numbers import exact

RULES = ("mean-bands", "majority")
BASES = ("cast", "cast-and-abstentions", "eligible")  # what a majority's share is a share of
CONDITION_KEYS = {"threshold", "strict", "base", "at_least"}
MAJORITY_KEYS = {"rule", "labels", "quorum", "groups", "for", "recuse"} | CONDITION_KEYS
MAJORITY_KEYS_SHOWN = sorted(MAJORITY_KEYS - {"rule"})
MAX_GROUP_CONDITIONS = 50
MAX_COUNT = 10**6  # a quorum's count, a condition's `at_least`
RATIO = re.compile(r"[0-9]{1,9}/[0-9]{1,9}")  # an exact threshold, such as "2/3"
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
    """A majority rule: its own condition, its quorum, its groups' conditions, its labels (docs/analysis.md)."""
    unknown = sorted(set(methodology) - MAJORITY_KEYS)
    if unknown:
        raise RulesError(
            unknown[0], f"majority has no setting {_shown(unknown[0])}; it has {', '.join(MAJORITY_KEYS_SHOWN)}."
        )
    groups = methodology.get("groups")
    _check_condition(methodology, "", needs_one=groups is None)
    if "quorum" in methodology:
        _check_quorum(methodology["quorum"])
    if groups is not None:
        if not isinstance(groups, Mapping) or not groups:
            raise RulesError("groups", f"majority groups must map each group's key to its condition{_not(groups)}.")
        if len(groups) > MAX_GROUP_CONDITIONS:
            raise RulesError("groups", f"majority states at most {MAX_GROUP_CONDITIONS} group conditions.")
        for key, condition in groups.items():
            if not isinstance(condition, Mapping):
                raise RulesError(
                    f"groups.{key}", f"A group's condition is an object with a threshold{_not(condition)}."
                )
            extra = sorted(set(condition) - CONDITION_KEYS)
            if extra:
                raise RulesError(
                    f"groups.{key}.{extra[0]}",
                    f"A group's condition has no setting {_shown(extra[0])}; it has "
                    f"{', '.join(sorted(CONDITION_KEYS))}.",
                )
            _check_condition(condition, f"groups.{key}.", needs_one=True)
    chosen = methodology.get("for")
    if chosen is not None and (
        not isinstance(chosen, list) or not chosen or not all(isinstance(c, str) and c for c in chosen)
    ):
        raise RulesError("for", f"majority `for` lists the keys of the choices that count in favour{_not(chosen)}.")
    recuse = methodology.get("recuse")
    if recuse is not None and (not isinstance(recuse, str) or not recuse):
        raise RulesError("recuse", f"majority `recuse` is the key of the choice that recuses{_not(recuse)}.")
    labels = methodology.get("labels")
    if labels is None:
        return
    if not isinstance(labels, Mapping):
        raise RulesError("labels", f"majority labels must map each outcome to its label{_not(labels)}.")
    for outcome, label in labels.items():
        if not isinstance(outcome, str) or not _text(label):
            raise RulesError(f"labels.{outcome}", f"The label for {_shown(outcome)} must be a non-empty text.")


def _check_condition(condition: Mapping, path: str, *, needs_one: bool) -> None:
    """A threshold (inclusive unless strict) of a base, and at least N in favour: one of the two at least."""
    threshold = condition.get("threshold")
    if threshold is None and condition.get("at_least") is None and needs_one:
        raise RulesError(
            f"{path}threshold",
            'majority needs a threshold more than 0 and at most 1, such as 0.5, 0.667 or "2/3".',
        )
    if threshold is not None and not _ratio(threshold, upper=1, zero=False):
        raise RulesError(
            f"{path}threshold",
            f'majority needs a threshold more than 0 and at most 1, such as 0.5, 0.667 or "2/3"{_not(threshold)}.',
        )
    strict = condition.get("strict")
    if strict is not None and not isinstance(strict, bool):
        raise RulesError(
            f"{path}strict", f"`strict` is true (more than the threshold) or false (at least it){_not(strict)}."
        )
    if strict and threshold is not None and exact(threshold) == 1:
        raise RulesError(f"{path}strict", "No share can be more than 1: a strict threshold is less than 1.")
    base = condition.get("base")
    if base is not None and base not in BASES:
        raise RulesError(f"{path}base", f"The base of the ratio is one of {', '.join(BASES)}{_not(base)}.")
    at_least = condition.get("at_least")
    if at_least is not None and (not _whole(at_least) or not 0 <= at_least <= MAX_COUNT):
        raise RulesError(
            f"{path}at_least",
            f"`at_least` is a whole number of votes in favour, from 0 to {MAX_COUNT}{_not(at_least)}.",
        )


def _check_quorum(quorum: Any) -> None:
    if not isinstance(quorum, Mapping) or len({"count", "share"} & quorum.keys()) != 1:
        raise RulesError(
            "quorum", f"A quorum is an object with either a `count` or a `share` of the eligible{_not(quorum)}."
        )
    extra = sorted(set(quorum) - {"count", "share", "abstentions"})
    if extra:
        raise RulesError(f"quorum.{extra[0]}", "A quorum has a `count` or a `share`, and `abstentions`.")
    count, share = quorum.get("count"), quorum.get("share")
    if "count" in quorum and not (_whole(count) and 1 <= count <= MAX_COUNT):
        raise RulesError(
            "quorum.count", f"A quorum's count is a whole number of voters from 1 to {MAX_COUNT}{_not(count)}."
        )
    if "share" in quorum and not _ratio(share, upper=1, zero=False):
        raise RulesError("quorum.share", f"A quorum's share of the eligible is more than 0 and at most 1{_not(share)}.")
    abstentions = quorum.get("abstentions")
    if abstentions is not None and not isinstance(abstentions, bool):
        raise RulesError(
            "quorum.abstentions", f"`abstentions` is true (they count toward quorum) or false{_not(abstentions)}."
        )


def check_references(methodology: Mapping, choices: Sequence[Mapping], groups: Sequence[str]) -> None:
    """What a methodology names exists on the ballot: its choices in favour, its recuse choice, its groups.

    Under a majority rule a blocking choice must carry its rationale (`requires_rationale`): a block stands on
    its reason. Run after `check_methodology`, with the ballot's choices (as `ballot.json` lists them) and its
    groups' keys.
    """
    if methodology.get("rule") != "majority":
        return
    by_key = {c["key"]: c for c in choices}
    for i, key in enumerate(methodology.get("for") or []):
        if key not in by_key:
            raise RulesError(f"for[{i}]", f"{_shown(key)} counted in favour is not a choice of the ballot.")
    recuse = methodology.get("recuse")
    if recuse is not None:
        if recuse not in by_key:
            raise RulesError("recuse", f"The recuse choice {_shown(recuse)} is not a choice of the ballot.")
        if by_key[recuse].get("blocking") or by_key[recuse].get("requires_grant"):
            raise RulesError("recuse", "The recuse choice can neither block nor require a grant.")
        if recuse in (methodology.get("for") or []):
            raise RulesError("recuse", "The recuse choice cannot also count in favour.")
    for key in methodology.get("groups") or {}:
        if key not in groups:
            raise RulesError(f"groups.{key}", f"{_shown(key)} is not a working group enrolled in the ballot.")
    for choice in choices:
        if choice.get("blocking") and not choice.get("requires_rationale"):
            raise RulesError(
                "",
                f"The blocking choice {_shown(choice['key'])} must require a rationale: a block stands on its reason.",
            )


def _ratio(value: Any, *, upper: int, zero: bool) -> bool:
    """A number, or an exact ratio written "p/q", in (0, upper] (or [0, upper] given zero)."""
    if isinstance(value, str):
        if not RATIO.fullmatch(value) or int(value.split("/")[1]) == 0:
            return False
        value = exact(value)
    elif not _number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return False
    else:
        value = exact(value)
    return (0 <= value if zero else 0 < value) and value <= upper


def _whole(value: Any) -> TypeGuard[int]:
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
