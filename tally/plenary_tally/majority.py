"""The majority rule as bodies write theirs: a threshold of a base, a quorum, per-group conditions, blocks, recusal.

A component's votes (over every criterion, and every part of an aggregate) are counted as in favour (the
choices of `for`, else those of positive value), against (negative value), abstaining (the rest), recused
(the `recuse` choice: in no base and no quorum) and blocking (a blocking choice). The outcome is:

- **blocked** when a blocking vote stands;
- **none** when nothing is cast (for the plain rule, a threshold of the votes cast and nothing else, also when
  only abstentions are);
- **fail** when the quorum is not met, or a condition does not hold;
- **pass** when every condition holds: the ballot's own (its `threshold`, `strict`, `base`, `at_least`) and each
  of `groups`, computed on that group's votes alone.

A condition's share is the votes in favour over its base: the votes cast in favour or against (`cast`), those and
the abstentions (`cast-and-abstentions`), or the eligible votes less the recused (`eligible`). The share reaches
an inclusive threshold (≥) and must exceed a strict one (>). Eligible votes are the eligible voters (of the ballot,
or of the group) times the votes each casts on the component: one per criterion and part.

The margin is the fewest existing votes changed between in favour and against (or from abstaining to in favour)
that change the outcome; `needs` says it in a sentence, with what new votes would do. Everything is exact.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from fractions import Fraction

from .model import BallotSpec, Cell, Result
from .numbers import exact

MAJORITY_LABELS = {"pass": "Passes", "fail": "Fails", "blocked": "Blocked", "none": "No votes"}
PLAIN = {"rule", "threshold", "labels"}  # the rule before bases, quorums and groups: kept as it was


@dataclass(frozen=True)
class Counts:
    """A component's votes (in one group, or all), by how the rule counts them, and its eligible votes."""

    favour: int = 0
    against: int = 0
    abstain: int = 0
    recused: int = 0
    blocking: int = 0
    eligible: int = 0

    def base(self, base: str) -> int:
        if base == "eligible":
            return self.eligible - self.recused
        return self.favour + self.against + (self.abstain if base == "cast-and-abstentions" else 0)

    def moved(self, against: int = 0, abstain: int = 0) -> "Counts":
        """These counts with some votes against, then abstaining, changed to in favour (negative: the reverse)."""
        return replace(
            self,
            favour=self.favour + against + abstain,
            against=self.against - against,
            abstain=self.abstain - abstain,
        )


@dataclass(frozen=True)
class Condition:
    group: str | None  # None: all the votes
    threshold: Fraction | None
    strict: bool
    base: str
    at_least: int

    @classmethod
    def of(cls, settings: Mapping, group: str | None) -> "Condition":
        threshold = settings.get("threshold")
        return cls(
            group=group,
            threshold=None if threshold is None else exact(threshold),
            strict=bool(settings.get("strict", False)),
            base=settings.get("base", "cast"),
            at_least=int(settings.get("at_least") or 0),
        )

    def holds(self, c: Counts) -> bool:
        if c.favour < self.at_least:
            return False
        if self.threshold is None:
            return True
        base = c.base(self.base)
        if base <= 0:
            return False
        share = Fraction(c.favour, base)
        return share > self.threshold if self.strict else share >= self.threshold

    def to_break(self, c: Counts) -> int | None:
        """The fewest votes in favour turned against that make it fail (None if none can)."""
        return _least(1, c.favour, lambda k: not self.holds(c.moved(against=-k)))

    def to_hold(self, c: Counts) -> int | None:
        """The fewest votes against, then abstaining, turned in favour that make it hold (None if none can)."""
        if self.holds(c):
            return 0
        return _least(1, c.against + c.abstain, lambda k: self.holds(_turned(c, k)))

    def more_in_favour(self, c: Counts) -> int:
        """How many new votes in favour it needs (from those who have not voted)."""
        needed = self.at_least - c.favour
        t = self.threshold
        if t is not None:
            if self.base == "eligible":
                gap = t * c.base("eligible") - c.favour
                needed = max(needed, math.floor(gap) + 1 if self.strict else math.ceil(gap))
            elif t < 1:
                gap = (t * c.base(self.base) - c.favour) / (1 - t)
                needed = max(needed, math.floor(gap) + 1 if self.strict else math.ceil(gap))
            elif c.against:  # a share of all the votes cast: no new vote in favour makes it 1
                return 0
        return max(needed, 1)

    def fewer_against(self, c: Counts) -> int | None:
        """How many fewer votes against would make it hold, alone (None if that cannot)."""
        if self.threshold is None or self.base == "eligible" or c.favour < self.at_least or not c.favour:
            return None
        gap = c.base(self.base) - c.favour / self.threshold
        fewer = math.floor(gap) + 1 if self.strict else math.ceil(gap)
        return fewer if 1 <= fewer <= c.against else None


@dataclass(frozen=True)
class Quorum:
    count: int | None
    share: Fraction | None
    abstentions: bool

    def required(self, c: Counts, per_voter: int) -> int:
        if self.count is not None:
            return self.count * per_voter
        assert self.share is not None
        return math.ceil(self.share * (c.eligible - c.recused))

    def present(self, c: Counts) -> int:
        return c.favour + c.against + (c.abstain if self.abstentions else 0)


@dataclass(frozen=True)
class Rule:
    conditions: tuple[Condition, ...]  # the ballot's own first, if it states one, then each group's
    quorum: Quorum | None
    favour: frozenset[str]
    recuse: str | None
    plain: bool
    labels: Mapping[str, str]

    @classmethod
    def of(cls, spec: BallotSpec) -> "Rule":
        m = spec.methodology
        own = [Condition.of(m, None)] if m.get("threshold") is not None or m.get("at_least") is not None else []
        groups = [Condition.of(settings, key) for key, settings in sorted((m.get("groups") or {}).items())]
        quorum = m.get("quorum")
        favour = m.get("for")
        return cls(
            conditions=tuple(own + groups),
            quorum=None
            if quorum is None
            else Quorum(
                count=quorum.get("count"),
                share=None if quorum.get("share") is None else exact(quorum["share"]),
                abstentions=bool(quorum.get("abstentions", True)),
            ),
            favour=frozenset(favour)
            if favour is not None
            else frozenset(k for k, c in spec.choices.items() if c.value > 0),
            recuse=m.get("recuse"),
            plain=set(m) <= PLAIN,
            labels=MAJORITY_LABELS | dict(m.get("labels") or {}),
        )


def counts(spec: BallotSpec, rule: Rule, cells: Iterable[Cell], parts: tuple[str, ...], per_voter: int) -> dict:
    """The counts of the votes on these parts: all of them (key None) and each group's."""
    found: dict[str | None, dict[str, int]] = {None: {}} | {g: {} for g in spec.groups}
    for cell in cells:
        if cell.component not in parts:
            continue
        choice = spec.choices[cell.choice]
        if cell.choice == rule.recuse:
            kind = "recused"
        elif cell.choice in rule.favour:
            kind = "favour"
        else:
            kind = "against" if choice.value < 0 else "abstain"
        for scope in (None, cell.group):
            tally = found.setdefault(scope, {})
            tally[kind] = tally.get(kind, 0) + cell.count
            if choice.blocking:
                tally["blocking"] = tally.get("blocking", 0) + cell.count
    eligible = {None: spec.eligible_voters} | dict(spec.eligible)
    return {scope: Counts(**tally, eligible=eligible.get(scope, 0) * per_voter) for scope, tally in found.items()}


def evaluate(rule: Rule, by_scope: Mapping[str | None, Counts], per_voter: int) -> str:
    """The outcome's kind: pass, fail, blocked or none."""
    c = by_scope[None]
    if c.blocking:
        return "blocked"
    if c.favour + c.against + (0 if rule.plain else c.abstain) == 0:
        return "none"
    if rule.quorum is not None and rule.quorum.present(c) < rule.quorum.required(c, per_voter):
        return "fail"
    return "pass" if all(cond.holds(by_scope[cond.group]) for cond in rule.conditions) else "fail"


def majority(spec: BallotSpec, cells: list[Cell], criteria: int | None = None) -> dict[str, Result]:
    """Every component's share, outcome, margin and needs; `criteria`: how many criteria the cells span."""
    rule = Rule.of(spec)
    n_criteria = len(spec.criteria) if criteria is None else criteria
    results = {}
    for component in spec.components:
        parts = component.parts if component.is_aggregate else (component.key,)
        per_voter = n_criteria * len(parts)
        by_scope = counts(spec, rule, cells, parts, per_voter)
        kind = evaluate(rule, by_scope, per_voter)
        pooled = by_scope[None]
        base = pooled.base(rule.conditions[0].base if rule.conditions else "cast")
        results[component.key] = Result(
            score=Fraction(pooled.favour, base) if base > 0 else None,
            outcome=rule.labels[kind],
            margin=margin(rule, by_scope, kind, per_voter),
            needs=needs(spec, rule, by_scope, kind, per_voter),
        )
    return results


def margin(rule: Rule, by_scope: Mapping[str | None, Counts], kind: str, per_voter: int) -> int | None:
    pooled = by_scope[None]
    if kind == "blocked":
        return pooled.blocking
    if kind == "none":
        return 1 if rule.plain and pooled.abstain else None
    if kind == "pass":
        found = [k for cond in rule.conditions if (k := cond.to_break(by_scope[cond.group])) is not None]
        return min(found) if found else None
    if rule.quorum is not None and rule.quorum.present(pooled) < rule.quorum.required(pooled, per_voter):
        return None
    # every group's condition needs its own changes; against votes first, since they move every share most
    total, moved = 0, Counts()
    for cond in rule.conditions:
        if cond.group is None:
            continue
        c = by_scope[cond.group]
        k = cond.to_hold(c)
        if k is None:
            return None
        against = min(k, c.against)
        total, moved = total + k, replace(moved, against=moved.against + against, abstain=moved.abstain + k - against)
    pooled = pooled.moved(against=moved.against, abstain=moved.abstain)
    for cond in rule.conditions:
        if cond.group is None:
            k = cond.to_hold(pooled)
            if k is None:
                return None
            total += k
    return total or None


def needs(spec: BallotSpec, rule: Rule, by_scope: Mapping[str | None, Counts], kind: str, per_voter: int) -> str:
    """What would change the outcome, in a sentence."""
    pooled = by_scope[None]
    if kind == "blocked":
        return f"blocked: {_votes(pooled.blocking)} blocking {'stands' if pooled.blocking == 1 else 'stand'}"
    if kind == "none":
        if pooled.abstain:
            return "only abstentions"
        return "only recusals" if pooled.recused else "no votes yet"
    if kind == "pass":
        k = margin(rule, by_scope, kind, per_voter)
        return f"would fail with {k} in favour turned against" if k else ""
    quorum = rule.quorum
    if quorum is not None and quorum.present(pooled) < quorum.required(pooled, per_voter):
        counted = "votes" if quorum.abstentions else "votes in favour or against"
        return f"fails quorum: {quorum.present(pooled)} of {quorum.required(pooled, per_voter)} {counted} needed"
    parts = []
    for cond in rule.conditions:
        c = by_scope[cond.group]
        if cond.holds(c):
            continue
        where = "" if cond.group is None else f" from {spec.group_names.get(cond.group, cond.group)}"
        more = cond.more_in_favour(c)
        said = f"{more} more in favour{where}" if more else ""
        fewer = cond.fewer_against(c)
        if fewer:
            said = f"{said}, or {fewer} fewer against" if said else f"{fewer} fewer against{where}"
        parts.append(said or f"more in favour{where}")
    return "needs " + "; and ".join(parts)


def _turned(c: Counts, k: int) -> Counts:
    against = min(k, c.against)
    return c.moved(against=against, abstain=k - against)


def _least(lo: int, hi: int, works) -> int | None:
    """The least k in [lo, hi] for which `works` (monotone: once true, true after), or None."""
    if hi < lo or not works(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if works(mid) else (mid + 1, hi)
    return lo


def _votes(n: int) -> str:
    return f"{n} vote" if n == 1 else f"{n} votes"


def in_words(
    methodology: Mapping, choices: Mapping[str, str], blocking: Iterable[str], groups: Mapping[str, str]
) -> str:
    """The majority rule as its ballot's page states it; `choices` and `groups` map keys to labels and names."""
    said = []
    own = _condition_in_words(methodology)
    if own:
        said.append(f"A component passes when {own}")
    for key, condition in sorted((methodology.get("groups") or {}).items()):
        lead = "and" if said else "A component passes when"
        said.append(f"{lead} in {groups.get(key, key)}, {_condition_in_words(condition)}")
    sentences = [", ".join(said) + "."]
    favour = methodology.get("for")
    if favour:
        named = ", ".join(choices.get(k, k) for k in favour)
        sentences.append(f"Counted in favour: {named}; against: the choices of negative value; the others abstain.")
    recuse = methodology.get("recuse")
    if recuse:
        sentences.append(f"“{choices.get(recuse, recuse)}” takes the voter out of every base and of the quorum.")
    quorum = methodology.get("quorum")
    if quorum:
        size = f"{quorum['count']} voters" if "count" in quorum else f"{quorum['share']} of the eligible members"
        counted = (
            "abstentions count toward it" if quorum.get("abstentions", True) else "abstentions do not count toward it"
        )
        sentences.append(f"Quorum: {size}; {counted}.")
    blocks = [choices.get(k, k) for k in blocking]
    if blocks:
        sentences.append(f"A standing {' or '.join(blocks)} blocks it, whatever the count; it carries its reason.")
    return " ".join(sentences)


_BASES_IN_WORDS = {
    "cast": "of the votes cast (abstentions not counted)",
    "cast-and-abstentions": "of the votes cast, abstentions included",
    "eligible": "of the eligible members' votes (recusals left out)",
}


def _condition_in_words(condition: Mapping) -> str:
    parts = []
    if condition.get("threshold") is not None:
        reach = "more than" if condition.get("strict") else "at least"
        parts.append(f"{reach} {condition['threshold']} {_BASES_IN_WORDS[condition.get('base', 'cast')]} are in favour")
    if condition.get("at_least"):
        parts.append(
            f"at least {_votes(int(condition['at_least']))} {'is' if condition['at_least'] == 1 else 'are'} in favour"
        )
    return " and ".join(parts)
