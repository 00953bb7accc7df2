"""`ballot.json` (format plenary-ballot/1), read and checked: the rules every vote is checked against.

A problem names the place in the file as a path, such as `components[3].aggregate.of[1]`.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, Protocol

from . import formats, rules
from .files import Bundle, BundleError, parse_time
from .model import BallotSpec, spec_from_json

FORMAT = formats.BALLOT
STATUSES = ("scheduled", "open", "closed")
DISPUTE_STATUSES = ("open", "upheld", "dismissed")
STANDING = ("open", "upheld")  # the disputes whose votes count as disputed
# Who votes: the members when voting opened and nobody added later (frozen), or whoever is a member at the time of
# the vote (live). A ballot.json without the key, written before the rule was recorded, is live.
ELIGIBILITY = ("frozen", "live")
SELECTORS = ("voter", "group", "choice", "component", "criterion")
ANSWERS = ("upheld", "overruled")  # an objection's answer; null while it awaits one
DIGEST = re.compile(r"[0-9a-f]{64}")
KEY = re.compile(r"[-a-zA-Z0-9_]+")  # stable identifiers, as Django's slugs
HANDLE = re.compile(r"[\w.@+-]{1,150}")  # public handles, as Django's usernames


class Cast(Protocol):
    """A vote as the checks see it (a row of votes.csv, or a vote replayed from the audit log)."""

    # read-only: a frozen row of votes.csv is a Cast as much as a vote being replayed
    @property
    def voter(self) -> str: ...
    @property
    def group(self) -> str: ...
    @property
    def component(self) -> str: ...
    @property
    def criterion(self) -> str: ...
    @property
    def choice(self) -> str: ...
    @property
    def cast_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class Grant:
    holder: str
    holder_kind: str  # "group" or "member"
    choice: str
    category: str | None  # None: every component
    reason: str
    revoked_at: datetime | None


@dataclass(frozen=True)
class Dispute:
    selection: Mapping[str, str | None]  # the votes matching every selector that is not None
    reason: str
    status: str
    resolution: str
    raised_by: str | None

    @property
    def standing(self) -> bool:
        return self.status in STANDING

    def covers(self, vote: Cast) -> bool:
        return all(value is None or getattr(vote, key) == value for key, value in self.selection.items())


@dataclass(frozen=True)
class Objection:
    """A member's formal objection to a decision, and its answer (None while open)."""

    member: str
    reasoning: str
    lodged_at: datetime | None
    answer: str | None
    answer_reason: str
    answered_by: str | None
    answered_at: datetime | None


@dataclass(frozen=True)
class Decision:
    """What the organizers decided, for a component or the ballot (None), and the run it cites."""

    number: int
    component: str | None
    outcome: str
    statement: str
    audit_seq: int
    input_digest: str
    supersedes: int | None
    recorded_by: str
    recorded_at: datetime | None
    objections: tuple[Objection, ...]


@dataclass(frozen=True)
class Conflict:
    """A member's declared conflict of interest: in one component, or (None) in the whole ballot."""

    member: str
    component: str | None
    statement: str
    declared_at: datetime
    withdrawn_at: datetime | None

    @property
    def standing(self) -> bool:
        return self.withdrawn_at is None


@dataclass(frozen=True)
class Ballot:
    """`ballot.json`, checked: its data (titles and labels) and what the checks and the analysis read."""

    data: Mapping[str, Any]
    spec: BallotSpec
    key: str
    status: str
    members: Mapping[str, frozenset[str]]  # group key -> handles
    chairs: Mapping[str, frozenset[str]]
    former: Mapping[str, frozenset[str]]  # group key -> handles that left the group but still have votes for it
    categories: Mapping[str, str]  # component key -> category
    grants: tuple[Grant, ...]
    disputes: tuple[Dispute, ...]
    decisions: tuple[Decision, ...] = ()

    @cached_property
    def current_decisions(self) -> tuple[Decision, ...]:
        """The decisions no later one supersedes."""
        revised = {d.supersedes for d in self.decisions}
        return tuple(d for d in self.decisions if d.number not in revised)

    conflicts: tuple[Conflict, ...] = ()

    @cached_property
    def voters(self) -> Mapping[str, frozenset[str]]:
        """Group key -> who may have votes for it: its members and its former members."""
        return {g: handles | self.former[g] for g, handles in self.members.items()}

    @property
    def carries(self) -> bool:
        """It carries votes from a previous ballot: votes.csv has the columns carried and outdated."""
        return self.spec.carries

    @cached_property
    def handles(self) -> frozenset[str]:
        return frozenset().union(*self.voters.values())

    @cached_property
    def leaves(self) -> frozenset[str]:
        return frozenset(c.key for c in self.spec.leaves)

    def requires_rationale(self, choice: str) -> bool:
        return any(c["key"] == choice and c.get("requires_rationale") for c in self.data["choices"])

    def grant_for(self, vote: Cast) -> Grant | None:
        """The grant that lets the vote use its restricted choice; a revoked grant covers votes cast before."""
        for grant in self.grants:
            holds = (grant.holder_kind, grant.holder) in (("member", vote.voter), ("group", vote.group))
            in_scope = grant.category is None or grant.category == self.categories[vote.component]
            in_time = grant.revoked_at is None or (vote.cast_at is not None and vote.cast_at < grant.revoked_at)
            if grant.choice == vote.choice and holds and in_scope and in_time:
                return grant
        return None

    @cached_property
    def _standing(self) -> tuple[tuple[tuple[str, str], ...], ...]:
        """Each standing dispute's set selectors: what `disputed` checks for every vote."""
        return tuple(
            tuple((key, value) for key, value in d.selection.items() if value is not None)
            for d in self.disputes
            if d.standing
        )

    def disputed(self, vote: Cast) -> bool:
        """Whether a standing dispute covers the vote (`Dispute.covers`)."""
        return any(all(getattr(vote, key) == value for key, value in selection) for selection in self._standing)

    @cached_property
    def _conflicted(self) -> Mapping[str, frozenset[str | None]]:
        """Member -> the scopes of their standing declarations (a component key, or None for the whole ballot)."""
        scopes: dict[str, set[str | None]] = {}
        for conflict in self.conflicts:
            if conflict.standing:
                scopes.setdefault(conflict.member, set()).add(conflict.component)
        return {member: frozenset(s) for member, s in scopes.items()}

    def conflicted(self, vote: Cast) -> bool:
        """Whether its voter has a standing declared conflict of interest in the whole ballot or in its component."""
        scopes = self._conflicted.get(vote.voter)
        return scopes is not None and (None in scopes or vote.component in scopes)


def read_ballot(bundle: Bundle) -> Ballot:
    return ballot_from_data(bundle.json(formats.BALLOT_FILE))


def ballot_from_data(data: Any) -> Ballot:
    """What `ballot.json` holds, checked, from wherever it was read (problems still name ballot.json)."""
    if not isinstance(data, dict):
        raise BundleError(formats.BALLOT_FILE, None, "must hold a JSON object")
    _no_nul(data)
    if data.get("format") != FORMAT:
        raise _fail("format", f"must be {FORMAT!r}, not {data.get('format')!r}")
    definition = _get(data, "definition", dict)
    _key(definition, "slug", "definition")
    _get(definition, "title", str, "definition")
    _get(data, "version", str)
    key = data["key"] = _key(data, "key") if "key" in data else _slug(_get(data, "title", str))
    status = data["status"] = _get(data, "status", str, optional=True) or "open"
    if status not in STATUSES:
        raise _fail("status", f"must be one of {', '.join(STATUSES)}, not {status!r}")
    eligibility = _get(data, "eligibility", str, optional=True) or "live"
    if eligibility not in ELIGIBILITY:
        raise _fail("eligibility", f"must be one of {', '.join(ELIGIBILITY)}, not {eligibility!r}")
    criteria, choices = _criteria_and_choices(data)
    members, chairs, former = _working_groups(data)
    voters = {g: handles | former[g] for g, handles in members.items()}
    categories = _components(data)
    _settings(data, choices, list(members))

    restricted = {c["key"]: bool(c.get("requires_grant")) for c in choices}
    grants = tuple(
        _grant(path, g, voters, restricted, set(categories.values())) for path, g in _items(data, "grants", True)
    )
    known = {"voter": set().union(*voters.values()), "group": set(members), "choice": set(restricted)}
    known |= {"component": set(categories), "criterion": {c["key"] for c in criteria}}
    disputes = tuple(_dispute(path, d, known) for path, d in _items(data, "disputes", True))
    decisions = _decisions(data, set(categories))
    leaves = {c["key"] for c in data["components"] if c.get("aggregate") is None}
    conflicts = tuple(_conflict(path, c, known["voter"], leaves) for path, c in _items(data, "conflicts", True))
    return Ballot(
        data=data,
        spec=spec_from_json(data),
        key=key,
        status=status,
        members=members,
        chairs=chairs,
        former=former,
        categories=categories,
        grants=grants,
        disputes=disputes,
        decisions=decisions,
        conflicts=conflicts,
    )


# The parts of ballot.json --------------------------------------------------------------------


def _criteria_and_choices(data: dict) -> tuple[list[dict], list[dict]]:
    criteria, choices = _items(data, "criteria"), _items(data, "choices")
    for path, c in criteria:
        _key(c, "key", path)
        _get(c, "label", str, path)
    for path, c in choices:
        _key(c, "key", path)
        _get(c, "label", str, path)
        _get(c, "value", int, path)
        for flag in ("requires_grant", "blocking", "requires_rationale"):
            _get(c, flag, bool, path, optional=True)
    for field, items, what in (("criteria", criteria, "criterion"), ("choices", choices, "choice")):
        if not items:
            raise _fail(field, "a ballot needs at least one")
        _unique([(path, c["key"]) for path, c in items], what)
    return [c for _, c in criteria], [c for _, c in choices]


def _working_groups(data: dict) -> tuple[dict[str, frozenset[str]], ...]:
    """Each group's members, chairs and former members (who left it but still have votes for it)."""
    groups = _items(data, "working_groups")
    if not groups:
        raise _fail("working_groups", "a ballot needs at least one")
    _unique([(path, _key(g, "key", path)) for path, g in groups], "working group")
    members, chairs, former = {}, {}, {}
    for path, g in groups:
        _get(g, "name", str, path)
        handles = [_handle(h, f"{path}.members[{i}]") for i, h in enumerate(_get(g, "members", list, path))]
        _unique([(f"{path}.members", h) for h in handles], "member")
        heads = _get(g, "chairs", list, path, optional=True) or []
        for i, handle in enumerate(heads):
            if handle not in handles:
                raise _fail(f"{path}.chairs[{i}]", f"{handle!r} chairs the group but is not among its members")
        members[g["key"]], chairs[g["key"]] = frozenset(handles), frozenset(heads)
        left = _get(g, "former_members", list, path, optional=True) or []
        left = [_handle(h, f"{path}.former_members[{i}]") for i, h in enumerate(left)]
        _unique([(f"{path}.former_members", h) for h in left], "former member")
        for i, handle in enumerate(left):
            if handle in handles:
                raise _fail(f"{path}.former_members[{i}]", f"{handle!r} is among the group's members")
        former[g["key"]] = frozenset(left)
        eligible = _get(g, "eligible", list, path, optional=True) or []
        for i, handle in enumerate(eligible):
            if handle not in handles:
                raise _fail(f"{path}.eligible[{i}]", f"{handle!r} may vote for the group but is not among its members")
        _unique([(f"{path}.eligible", h) for h in eligible], "eligible member")
    return members, chairs, former


def _components(data: dict) -> dict[str, str]:
    """Each component's category, once the components and their aggregates are checked."""
    components = _items(data, "components")
    _unique([(path, _key(c, "key", path)) for path, c in components], "component")
    leaves = {c["key"] for _, c in components if c.get("aggregate") is None}
    for path, c in components:
        _get(c, "title", str, path)
        _get(c, "category", str, path)
        aggregate = _get(c, "aggregate", dict, path, optional=True)
        if aggregate is None:
            continue
        if _get(aggregate, "rule", str, f"{path}.aggregate") not in ("sum", "mean"):
            raise _fail(f"{path}.aggregate.rule", "must be 'sum' or 'mean'")
        parts = _get(aggregate, "of", list, f"{path}.aggregate")
        for i, part in enumerate(parts):
            if not isinstance(part, str) or part not in leaves:
                raise _fail(f"{path}.aggregate.of[{i}]", f"{part!r} is not a component that is voted on")
        if len(set(parts)) != len(parts):
            raise _fail(f"{path}.aggregate.of", "names a part twice")
    return {c["key"]: c["category"] for _, c in components}


def _settings(data: dict, choices: list[dict], groups: list[str]) -> None:
    """The methodology and the clustering, checked by the rules the web app creates ballots by."""
    methodology = _get(data, "methodology", dict)
    clustering = data["clustering"] = _get(data, "clustering", dict, optional=True) or dict(rules.DEFAULT_CLUSTERING)
    for field, check, settings in (
        ("methodology", rules.check_methodology, methodology),
        ("methodology", lambda m: rules.check_references(m, choices, groups), methodology),
        ("clustering", rules.check_clustering, clustering),
    ):
        try:
            check(settings)
        except rules.RulesError as exc:
            raise _fail(f"{field}.{exc.path}" if exc.path else field, exc.message) from None


def _grant(path: str, g: dict, members: Mapping, restricted: Mapping[str, bool], categories: set[str]) -> Grant:
    holder = _get(g, "holder", str, path)
    kind = _get(g, "holder_kind", str, path, optional=True)
    if kind is None:  # may be left out on import: a group's key, or a member's handle
        kind = "member" if holder.startswith("@") or holder not in members else "group"
    if kind not in ("group", "member"):
        raise _fail(f"{path}.holder_kind", "must be 'group' or 'member'")
    holder = holder.removeprefix("@") if kind == "member" else holder
    if kind == "group" and holder not in members:
        raise _fail(f"{path}.holder", f"{holder!r} is not a working group of the ballot")
    if kind == "member" and not any(holder in handles for handles in members.values()):
        raise _fail(f"{path}.holder", f"{holder!r} is not a member of any working group of the ballot")
    choice = _get(g, "choice", str, path)
    if not restricted.get(choice):
        raise _fail(f"{path}.choice", f"{choice!r} is not a choice of the ballot that requires a grant")
    category = _get(g, "category", str, path, optional=True) or None
    if category is not None and category not in categories:
        raise _fail(f"{path}.category", f"no component has the category {category!r}")
    reason = _get(g, "reason", str, path)
    revoked_at = _get(g, "revoked_at", str, path, optional=True)
    return Grant(holder, kind, choice, category, reason, _time(revoked_at, f"{path}.revoked_at"))


def _dispute(path: str, d: dict, known: Mapping[str, set[str]]) -> Dispute:
    selection = _get(d, "selection", dict, path)
    for selector, value in selection.items():
        if selector not in SELECTORS:
            raise _fail(f"{path}.selection.{selector}", f"not a selector; they are {', '.join(SELECTORS)}")
        if value is not None and (not isinstance(value, str) or value not in known[selector]):
            raise _fail(f"{path}.selection.{selector}", f"unknown {selector} {value!r}")
    if all(value is None for value in selection.values()):
        raise _fail(f"{path}.selection", f"must select votes by one or more of {', '.join(SELECTORS)}")
    status = _get(d, "status", str, path, optional=True) or "open"
    if status not in DISPUTE_STATUSES:
        raise _fail(f"{path}.status", f"must be one of {', '.join(DISPUTE_STATUSES)}, not {status!r}")
    resolution = _get(d, "resolution", str, path, optional=True) or ""
    if status != "open" and not resolution.strip():
        raise _fail(f"{path}.resolution", f"a dispute {status} needs its resolution")
    return Dispute(
        selection={s: selection.get(s) for s in SELECTORS},
        reason=_get(d, "reason", str, path),
        status=status,
        resolution=resolution,
        raised_by=_get(d, "raised_by", str, path, optional=True),
    )


def _decisions(data: dict, components: set[str]) -> tuple[Decision, ...]:
    """The decisions on the record, in the order recorded (numbered 1, 2, 3…), each with its objections."""
    decisions: dict[int, Decision] = {}
    for path, d in _items(data, "decisions", True):
        number = _get(d, "number", int, path)
        if number != len(decisions) + 1:
            raise _fail(f"{path}.number", f"must be {len(decisions) + 1}: decisions are numbered 1, 2, 3… in order")
        component = _get(d, "component", str, path, optional=True)
        if component is not None and component not in components:
            raise _fail(f"{path}.component", f"{component!r} is not a component of the ballot")
        run = _get(d, "run", dict, path)
        audit_seq = _get(run, "audit_seq", int, f"{path}.run")
        if audit_seq < 1:
            raise _fail(f"{path}.run.audit_seq", "must be a position in the audit log, from 1")
        digest = _get(run, "input_digest", str, f"{path}.run")
        if not DIGEST.fullmatch(digest):
            raise _fail(f"{path}.run.input_digest", f"{digest[:70]!r} is not a SHA-256 in hex")
        supersedes = _get(d, "supersedes", int, path, optional=True)
        if supersedes is not None:
            if supersedes not in decisions:
                raise _fail(f"{path}.supersedes", f"names no earlier decision: {supersedes}")
            if decisions[supersedes].component != component:
                raise _fail(f"{path}.supersedes", f"decision {supersedes} is on another component")
            if any(other.supersedes == supersedes for other in decisions.values()):
                raise _fail(f"{path}.supersedes", f"decision {supersedes} is revised twice")
        decisions[number] = Decision(
            number=number,
            component=component,
            outcome=_get(d, "outcome", str, path),
            statement=_get(d, "statement", str, path),
            audit_seq=audit_seq,
            input_digest=digest,
            supersedes=supersedes,
            recorded_by=_handle(_get(d, "recorded_by", str, path), f"{path}.recorded_by"),
            recorded_at=_time(_get(d, "recorded_at", str, path), f"{path}.recorded_at"),
            objections=tuple(_objection(p, o) for p, o in _items(d, "objections", True, path)),
        )
    return tuple(decisions.values())


def _objection(path: str, o: dict) -> Objection:
    answer = _get(o, "answer", str, path, optional=True)
    if answer is not None and answer not in ANSWERS:
        raise _fail(f"{path}.answer", f"must be one of {', '.join(ANSWERS)} or null, not {answer!r}")
    reason = _get(o, "answer_reason", str, path, optional=True) or ""
    by = _get(o, "answered_by", str, path, optional=True)
    at = _get(o, "answered_at", str, path, optional=True)
    if answer is not None and not (reason.strip() and by and at):
        raise _fail(path, f"an objection {answer} needs its answer_reason, answered_by and answered_at")
    if answer is None and (reason or by or at):
        raise _fail(f"{path}.answer", "is null, yet the objection has an answer's reason, author or time")
    return Objection(
        member=_handle(_get(o, "member", str, path), f"{path}.member"),
        reasoning=_get(o, "reasoning", str, path),
        lodged_at=_time(_get(o, "lodged_at", str, path), f"{path}.lodged_at"),
        answer=answer,
        answer_reason=reason,
        answered_by=_handle(by, f"{path}.answered_by") if by is not None else None,
        answered_at=_time(at, f"{path}.answered_at"),
    )


def _conflict(path: str, c: dict, handles: set[str], leaves: set[str]) -> Conflict:
    member = _handle(_get(c, "member", str, path), f"{path}.member")
    if member not in handles:
        raise _fail(f"{path}.member", f"{member!r} is not a member of any working group of the ballot")
    component = _get(c, "component", str, path, optional=True)
    if component is not None and component not in leaves:
        raise _fail(f"{path}.component", f"{component!r} is not a component of the ballot that is voted on")
    declared_at = _time(_get(c, "declared_at", str, path), f"{path}.declared_at")
    assert declared_at is not None  # _get refuses an empty one
    withdrawn_at = _time(_get(c, "withdrawn_at", str, path, optional=True), f"{path}.withdrawn_at")
    if withdrawn_at is not None and withdrawn_at < declared_at:
        raise _fail(f"{path}.withdrawn_at", "is before the declaration was made")
    return Conflict(member, component, _get(c, "statement", str, path), declared_at, withdrawn_at)


# Checking one value --------------------------------------------------------------------------

_KINDS = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "a list",
    dict: "an object",
}


def _fail(path: str, message: str) -> BundleError:
    return BundleError(formats.BALLOT_FILE, None, f"{path}: {message}")


def _get(obj: Mapping, field: str, kind: type | tuple[type, ...], path: str = "", *, optional: bool = False) -> Any:
    """obj[field], checked to be of the JSON kind; None when optional and missing or null."""
    where = f"{path}.{field}" if path else field
    value = obj.get(field)
    if value is None:
        if optional:
            return None
        raise _fail(where, "missing")
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
        shown = json.dumps(value, ensure_ascii=False)
        raise _fail(where, f"must be {' or '.join(_KINDS[k] for k in kinds)}, not {shown[:40]}")
    if isinstance(value, str) and not value.strip() and not optional:
        raise _fail(where, "is empty")
    return value


def _key(obj: Mapping, field: str, path: str = "") -> str:
    value = _get(obj, field, str, path)
    if not KEY.fullmatch(value):
        raise _fail(f"{path}.{field}" if path else field, f"{value!r} is not a key (letters, digits, - and _)")
    return value


def _handle(value: Any, path: str) -> str:
    if not isinstance(value, str) or not HANDLE.fullmatch(value):
        raise _fail(path, f"{value!r} is not a handle (letters, digits and . @ + - _)")
    return value


def _items(obj: Mapping, field: str, optional: bool = False, path: str = "") -> list[tuple[str, dict]]:
    """A list of objects, each with its path, such as `components[2]`."""
    where = f"{path}.{field}" if path else field
    items = _get(obj, field, list, path, optional=optional) or []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise _fail(f"{where}[{i}]", "must be an object")
    return [(f"{where}[{i}]", item) for i, item in enumerate(items)]


def _unique(keys: list[tuple[str, str]], what: str) -> None:
    seen: set[str] = set()
    for path, key in keys:
        if key in seen:
            raise _fail(path, f"the {what} {key!r} appears twice")
        seen.add(key)


def _no_nul(value: Any, path: str = "") -> None:
    """No text anywhere holds a NUL character: Plenary stores none (its forms refuse them, and PostgreSQL)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            _no_nul(key, path)
            _no_nul(inner, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            _no_nul(inner, f"{path}[{i}]")
    elif isinstance(value, str) and "\x00" in value:
        raise _fail(path or "a key", "holds a NUL character, which no text in Plenary can hold")


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:64] or "ballot"


def _time(value: str | None, path: str) -> datetime | None:
    try:
        return parse_time(value) if value else None
    except ValueError as exc:
        raise _fail(path, f"{value!r} is not an ISO 8601 date and time") from exc
