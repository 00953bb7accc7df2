"""Every write in the votes app: one function per use case, each audited in its transaction.

Services first take the ballot's place in its audit stream (`audit.lock_stream`), so the
order of the audit events is the order in which the changes were committed: replaying the
ballot's audit stream gives exactly its current votes. A vote takes it shared, with its cell
(`audit.lock_vote`): in queue mode votes on other cells go on meanwhile, and their events
wait for the sequencer; every other change is a barrier that waits for them (docs/audit-log.md).
"""

import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext

from analysis import tasks
from audit.models import lock_stream, lock_vote, record, seal, unseal
from deliberation.markdown import render_markdown
from deliberation.models import Component, Definition, DraftVersion, Membership, WorkingGroup
from notifications import webhooks
from notifications.models import Event, Kind, followers
from notifications.services import Message, announce, notify, site_language
from plenary_tally import rules
from plenary_tally.vocabulary import Action

from .access import VotingRights, eligible_memberships, may_dispute, roster, voting_memberships
from .models import (
    REASON_MAX_LENGTH,
    Ballot,
    BallotQuerySet,
    Choice,
    ConflictDeclaration,
    Criterion,
    Dispute,
    VetoGrant,
    Vote,
    choice_value,
    rationale_length,
    statement_length,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _require_organizer(ballot_or_definition: Ballot | Definition, user: "User") -> None:
    definition = ballot_or_definition.definition if isinstance(ballot_or_definition, Ballot) else ballot_or_definition
    if not definition.is_organizer(user):
        raise PermissionDenied(gettext("Only the definition's organizers can do this."))


def _locked(ballot: Ballot, *cell: object) -> Ballot:
    """Take the ballot's place in its audit stream, then read its current state.

    With a cell (voter, component and criterion ids), a vote's hold: the stream shared, the cell alone exclusively.
    """
    if cell:
        lock_vote(ballot.audit_stream, *cell)
    else:
        lock_stream(ballot.audit_stream)
    return Ballot.objects.select_related("definition", "version").get(pk=ballot.pk)


def _handle(user: "User") -> str:
    return user.get_username()


# Ballots -------------------------------------------------------------------------------------


def validate_methodology(
    methodology: dict, choices: list[dict] | None = None, groups: Iterable[WorkingGroup] = ()
) -> dict:
    """The methodology as data: refuse anything the analysis could not run (`plenary_tally.rules`), and, given
    the ballot's choices and groups, anything it names that the ballot does not have."""
    try:
        rules.check_methodology(methodology)
        if choices is not None:
            rules.check_references(methodology, choices, [g.key for g in groups])
    except rules.RulesError as exc:
        raise ValidationError(str(exc)) from None
    return methodology


def validate_clustering(clustering: dict) -> dict:
    """The clustering settings as data: a number of clusters and a seed the analysis runs with."""
    try:
        rules.check_clustering(clustering)
    except rules.RulesError as exc:
        raise ValidationError(str(exc)) from None
    return clustering


def _check_window(opens_at: datetime | None, closes_at: datetime | None) -> None:
    if closes_at and opens_at and closes_at <= opens_at:
        raise ValidationError(gettext("A ballot closes after it opens."))


def _check_rows(criteria: list[tuple[str, str]], choices: list[dict]) -> None:
    if not criteria:
        raise ValidationError(gettext("A ballot needs at least one criterion, such as Use."))
    if not choices:
        raise ValidationError(gettext("A ballot needs a choice scale."))
    for kind, keys in (("criterion", [k for k, _ in criteria]), ("choice", [c["key"] for c in choices])):
        if len(set(keys)) != len(keys):
            raise ValidationError(gettext("Each %(kind)s key may appear once.") % {"kind": kind})
    for c in choices:
        choice_value(c["key"], c.get("value"))


def _check_groups(definition: Definition, groups: list[WorkingGroup]) -> None:
    if not groups or any(g.definition_id != definition.pk for g in groups):
        raise ValidationError(gettext("Enroll at least one working group of this definition."))


def _check_reason(reason: str, what: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError(
            gettext("Say why %(what)s; the reason is shown on the ballot's page and in its audit log.") % {"what": what}
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationError(
            gettext("A reason can be at most %(REASON_MAX_LENGTH)s characters long; this one has %(count)s.")
            % {"REASON_MAX_LENGTH": REASON_MAX_LENGTH, "count": len(reason)}
        )
    return reason


@transaction.atomic
def create_ballot(
    *,
    version: DraftVersion,
    key: str,
    title: str,
    groups: Iterable[WorkingGroup],
    criteria: list[tuple[str, str]],
    choices: list[dict],
    acting_user: "User",
    description: str = "",
    results_visibility: str = Ballot.Visibility.LIVE,
    eligibility: str = Ballot.Eligibility.FROZEN,
    methodology: dict | None = None,
    clustering: dict | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    remind_before_hours: int = 24,
    carried_from: Ballot | None = None,
    carry_rule: str = Ballot.CarryRule.NONE,
    carry_mapping: dict[str, list[str]] | None = None,
    carried_elsewhere: bool = False,
) -> Ballot:
    """An organizer creates a ballot on a published version. `carried_from`, `carry_rule` and `carry_mapping`
    declare the votes it starts with (`check_carry`, `carry_votes`); `carried_elsewhere` is for an imported
    bundle's ballot, whose ballot carried from is not in this Plenary: its rule and mapping are kept as recorded,
    and its carried votes come with the bundle (`import_carried_vote`)."""
    definition = version.definition
    _require_organizer(definition, acting_user)
    lock_stream(definition.audit_stream)  # rosters change in this line: the roster recorded below is the one in force
    if not version.is_published:
        raise ValidationError(gettext("Ballots are held on published versions only."))
    groups = list(groups)
    _check_groups(definition, groups)
    _check_rows(criteria, choices)
    _check_window(opens_at, closes_at)
    if definition.ballots.filter(key=key).exists():
        raise ValidationError(gettext("This definition already has a ballot with key %(key)s.") % {"key": key})
    carry_mapping = check_carry(version, carried_from, carry_rule, carry_mapping or {}, carried_elsewhere)
    ballot = Ballot(
        definition=definition,
        version=version,
        key=key,
        title=title,
        description=description,
        results_visibility=results_visibility,
        eligibility=eligibility,
        opens_at=opens_at,
        closes_at=closes_at,
        remind_before_hours=remind_before_hours,
        carried_from=carried_from,
        carry_rule=carry_rule,
        carry_mapping=carry_mapping,
        created_by=acting_user,
    )
    if methodology is not None:
        ballot.methodology = methodology
    if clustering is not None:
        ballot.clustering = clustering
    validate_methodology(ballot.methodology, choices, groups)
    validate_clustering(ballot.clustering)
    ballot.full_clean(exclude=["definition", "version", "created_by"])
    ballot.description_html = render_markdown(description)  # once, within its limit: pages show it as stored
    ballot.save()
    ballot.groups.set(groups)
    _write_rows(ballot, criteria, choices)
    if not ballot.results_public:
        seal(ballot.audit_stream)  # its votes stay private until it closes
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.BALLOT_CREATED,
        subject=ballot,
        payload=ballot_spec(ballot) | {"roster": roster(ballot)},  # then each change, as the groups' streams do
    )
    named = {"who": _handle(acting_user), "ballot": ballot.title, "label": version.label, "title": definition.title}
    with site_language():
        message = Message(
            Kind.FOLLOWED,
            f"ballot:{ballot.pk}",
            gettext("A new ballot on %(title)s: %(ballot)s") % named,
            gettext("@%(who)s created the ballot %(ballot)s on %(label)s of %(title)s.") % named,
            ballot.get_absolute_url(),
        )
    notify(followers(definition).exclude(pk=acting_user.pk), message)
    return ballot


def _write_rows(ballot: Ballot, criteria: list[tuple[str, str]], choices: list[dict]) -> None:
    """The ballot's criteria and choice scale, as given: rows kept by key, changed in place, added or removed."""
    kept_criteria = {c.key: c for c in ballot.criteria.all()}
    kept_choices = {c.key: c for c in ballot.choices.all()}
    gone = [c for k, c in kept_choices.items() if k not in {c["key"] for c in choices}]
    if any(c.grants.exists() for c in gone):
        used = ", ".join(c.key for c in gone if c.grants.exists())
        raise ValidationError(
            gettext("Choice %(used)s has veto grants: it stays on the scale while they exist.") % {"used": used}
        )
    ballot.criteria.exclude(key__in=[k for k, _ in criteria]).delete()
    ballot.choices.filter(pk__in=[c.pk for c in gone]).delete()
    rows: list[Criterion | Choice] = []
    for i, (k, label) in enumerate(criteria):
        criterion = kept_criteria.get(k) or Criterion(ballot=ballot, key=k)
        criterion.label, criterion.position = label, i
        rows.append(criterion)
    flags = {"requires_grant": False, "blocking": False, "requires_rationale": False}
    for i, data in enumerate(choices):
        choice = kept_choices.get(data["key"]) or Choice(ballot=ballot, key=data["key"])
        for name, value in (flags | data | {"position": i}).items():
            setattr(choice, name, value)
        rows.append(choice)
    for row in rows:
        row.full_clean(exclude=["ballot"], validate_constraints=False)
    for row in rows:
        row.save()


def ballot_spec(ballot: Ballot) -> dict:
    """The ballot's rules as plain data: what the audit log records and what analysis reads."""
    return {
        "definition": {"slug": ballot.definition.slug, "title": ballot.definition.title},
        "key": ballot.key,
        "title": ballot.title,
        "version": ballot.version.label,
        "groups": sorted(g.key for g in ballot.groups.all()),
        "group_names": {g.key: g.name for g in ballot.groups.all()},
        "criteria": [{"key": c.key, "label": c.label} for c in ballot.criteria.all()],
        "choices": [c.as_data() for c in ballot.choices.all()],
        "components": ballot.version.components.as_data(),  # a published version's, fixed: what is voted on
        "results_visibility": ballot.results_visibility,
        "eligibility": ballot.eligibility,
        "methodology": ballot.methodology,
        "clustering": ballot.clustering,
        "opens_at": ballot.opens_at.isoformat() if ballot.opens_at else None,
        "closes_at": ballot.closes_at.isoformat() if ballot.closes_at else None,
    } | carry_spec(ballot)


def carry_spec(ballot: Ballot) -> dict:
    """What the ballot carries from the previous one, as ballot.json and its `ballot.created` event hold it:
    nothing for a ballot that carries nothing (as every ballot did before votes were carried)."""
    if ballot.carried_from_id is None and ballot.carry_rule == Ballot.CarryRule.NONE:
        return {}
    source = ballot.carried_from
    return {
        "carry": {
            "from": {"key": source.key, "version": source.version.label} if source is not None else None,
            "rule": ballot.carry_rule,
            "mapping": ballot.carry_mapping,
        }
    }


# A mapping names at most this many new components, each from at most this many old ones: a definition's size.
CARRY_MAPPING_MAX = 500
CARRY_SOURCES_MAX = 20


def check_carry(
    version: DraftVersion,
    carried_from: Ballot | None,
    rule: str,
    mapping: dict[str, list[str]],
    carried_elsewhere: bool = False,
) -> dict[str, list[str]]:
    """Refuse a carry the ballot could not follow: the mapping as stored ({new key: [old keys]}), checked.

    The ballot carried from is a closed ballot of the same definition on an earlier published version (closed:
    its votes are final and public, so carrying them reveals nothing sealed). The mapping names leaf components
    of the new version and, for each, leaf components of the old one; a new component it does not name maps to
    the old one of the same key, if there is one."""
    if rule not in Ballot.CarryRule.values:
        raise ValidationError(f"There is no rule {str(rule)[:40]!r} for carrying votes.")
    if carried_from is None and not carried_elsewhere:
        if rule != Ballot.CarryRule.NONE or mapping:
            raise ValidationError(gettext("Say which earlier ballot the votes are carried from."))
        return {}
    if not isinstance(mapping, dict) or len(mapping) > CARRY_MAPPING_MAX:
        raise ValidationError(
            gettext("A mapping names at most %(CARRY_MAPPING_MAX)s components.")
            % {"CARRY_MAPPING_MAX": CARRY_MAPPING_MAX}
        )
    new_leaves = set(version.components.leaves().values_list("key", flat=True))
    if carried_from is None:  # an imported ballot's: the old version is not here to check its keys against
        return _checked_mapping(mapping, new_leaves, None, version.label, "the earlier version")
    old = carried_from.version
    if carried_from.definition_id != version.definition_id:
        raise ValidationError(gettext("Votes are carried from a ballot of the same definition only."))
    if old.pk == version.pk or not old.published_at or (old.published_at, old.pk) >= (version.published_at, version.pk):
        raise ValidationError(
            gettext("Votes are carried from a ballot on an earlier version than %(label)s.") % {"label": version.label}
        )
    if carried_from.status != Ballot.Status.CLOSED:
        raise ValidationError(
            gettext("Votes are carried from a closed ballot; %(title)s is %(status)s.")
            % {"title": carried_from.title, "status": carried_from.get_status_display().lower()}
        )
    old_leaves = set(old.components.leaves().values_list("key", flat=True))
    return _checked_mapping(mapping, new_leaves, old_leaves, version.label, old.label)


def _checked_mapping(
    mapping: dict, new_leaves: set[str], old_leaves: set[str] | None, new_label: str, old_label: str
) -> dict[str, list[str]]:
    """{new key: [old keys]}: each a leaf component of its version (the old ones unchecked without `old_leaves`)."""
    checked: dict[str, list[str]] = {}
    for new, olds in mapping.items():
        if new not in new_leaves:
            raise ValidationError(
                gettext("%(value)s is not a component voted on in %(new_label)s.")
                % {"value": str(new)[:64], "new_label": new_label}
            )
        if not isinstance(olds, list) or not olds or len(olds) > CARRY_SOURCES_MAX:
            raise ValidationError(
                gettext("Map %(new)s from one to %(CARRY_SOURCES_MAX)s components of %(old_label)s.")
                % {"new": new, "CARRY_SOURCES_MAX": CARRY_SOURCES_MAX, "old_label": old_label}
            )
        unknown = [
            str(k)[:64] for k in olds if not isinstance(k, str) or (old_leaves is not None and k not in old_leaves)
        ]
        if unknown:
            raise ValidationError(
                gettext("%(value)s: not a component voted on in %(old_label)s (mapped to %(new)s).")
                % {"value": ", ".join(unknown), "old_label": old_label, "new": new}
            )
        if len(set(olds)) != len(olds):
            raise ValidationError(
                gettext("Each component of %(old_label)s appears once in the mapping of %(new)s.")
                % {"old_label": old_label, "new": new}
            )
        checked[new] = list(olds)
    return checked


def _carry_sources(ballot: Ballot) -> dict[Component, tuple[list[str], bool]]:
    """Each leaf component of the ballot, with the old components its votes come from and whether its text is
    unchanged: mapped from exactly one old component whose title and description it keeps."""
    assert ballot.carried_from is not None
    old = {c.key: c for c in ballot.carried_from.version.components.leaves()}
    sources = {}
    for component in ballot.version.components.leaves():
        keys = ballot.carry_mapping.get(component.key) or ([component.key] if component.key in old else [])
        if keys:
            single = old[keys[0]] if len(keys) == 1 else None
            unchanged = single is not None and (single.title, single.description) == (
                component.title,
                component.description,
            )
            sources[component] = (keys, unchanged)
    return sources


def carry_votes(ballot: Ballot, acting_user: "User | None") -> int:
    """The votes of the ballot carried from, carried into `ballot` as it opens, under its rule: how many.

    Run by `open_ballot`, under the ballot's lock, after its opening is recorded. Each carried vote is one
    `vote.carried` event (a vote's payload, and `carried_from` and `outdated`), which sets the cell as a cast does.
    A vote carries for the same group, criterion and choice (by key), if its voter still votes for that group;
    a choice that needs a veto grant does not carry (grants are the new ballot's). Onto a component merged from
    several, a voter's votes carry only if they agree (the first one's rationale with them). Each voter with
    carried votes is told, and confirms, changes or withdraws them on the grid."""
    if ballot.carried_from is None or ballot.carry_rule == Ballot.CarryRule.NONE:
        return 0
    source = ballot.carried_from
    criteria = {c.key: c for c in ballot.criteria.all()}
    choices = {c.key: c for c in ballot.choices.all() if not c.requires_grant}
    groups: dict[int, dict[str, WorkingGroup]] = {}  # voter -> the groups they vote for, by key
    for membership in eligible_memberships(ballot).select_related("group", "user"):
        groups.setdefault(membership.user_id, {})[membership.group.key] = membership.group
    old_votes: dict[tuple[int, str, str], list[Vote]] = {}
    for vote in source.votes.select_related("voter", "cast_by", "group", "component", "criterion", "choice"):
        old_votes.setdefault((vote.voter_id, vote.component.key, vote.criterion.key), []).append(vote)
    carried: dict[int, int] = {}
    for component, (keys, unchanged) in _carry_sources(ballot).items():
        if ballot.carry_rule == Ballot.CarryRule.UNCHANGED and not unchanged:
            continue
        for voter_id in sorted(groups):
            for criterion in criteria:
                found = [v for key in keys for v in old_votes.get((voter_id, key, criterion), [])]
                if not found or len({(v.choice.key, v.group.key) for v in found}) != 1:
                    continue  # no vote, or votes that disagree on a merged component: the voter decides afresh
                first = found[0]
                group, choice = groups[voter_id].get(first.group.key), choices.get(first.choice.key)
                if group is None or choice is None:
                    continue
                vote = Vote.objects.create(
                    ballot=ballot,
                    voter=first.voter,
                    group=group,
                    component=component,
                    criterion=criteria[criterion],
                    choice=choice,
                    rationale=first.rationale,
                    cast_at=first.cast_at,
                    cast_by=first.cast_by,
                    carried=True,
                    outdated=not unchanged,
                )
                _record_carried(ballot, vote, source.key, acting_user)
                carried[voter_id] = carried.get(voter_id, 0) + 1
    if carried:
        _notify_carried(ballot, carried)
        tasks.enqueue_recompute(ballot.pk)
    return sum(carried.values())


def _record_carried(ballot: Ballot, vote: Vote, carried_from: str, acting_user: "User | None") -> None:
    carry = {"carried_from": carried_from, "outdated": vote.outdated}
    payload = _vote_payload(ballot, vote, None, vote.cast_by) | carry
    stream = ballot.audit_stream
    record(stream=stream, actor=acting_user, action=Action.VOTE_CARRIED, subject=vote, payload=payload, queued=True)


def _notify_carried(ballot: Ballot, carried: dict[int, int]) -> None:
    """Tell each voter how many of their votes were carried: they confirm, change or withdraw them on the grid."""
    source = ballot.carried_from
    assert source is not None
    for voter_id, n in sorted(carried.items()):
        named = {
            "n": n,
            "ballot": ballot.title,
            "label": ballot.version.label,
            "source": source.title,
            "source_label": source.version.label,
        }
        with site_language():
            named["rule"] = ballot.get_carry_rule_display()
            message = Message(
                kind=Kind.BALLOT_OPENED,
                key=f"votes-carried:{ballot.pk}",
                subject=ngettext("%(n)s vote carried into %(ballot)s", "%(n)s votes carried into %(ballot)s", n)
                % named,
                body=ngettext(
                    "%(n)s vote of yours on “%(source)s” (%(source_label)s) carried into “%(ballot)s” (%(label)s), "
                    "as its rule says: %(rule)s. It counts as it is; confirm, change or withdraw it on your grid. "
                    "A vote on a component whose text changed is marked outdated.",
                    "%(n)s votes of yours on “%(source)s” (%(source_label)s) carried into “%(ballot)s” (%(label)s), "
                    "as its rule says: %(rule)s. They count as they are; confirm, change or withdraw each on your "
                    "grid. Those on a component whose text changed are marked outdated.",
                    n,
                )
                % named,
                path=ballot.get_absolute_url(),
            )
        notify(get_user_model().objects.filter(pk=voter_id), message)


@transaction.atomic
def import_carried_vote(
    *,
    ballot: Ballot,
    voter: "User",
    group: WorkingGroup,
    component: Component,
    criterion: Criterion,
    choice: Choice,
    rationale: str,
    cast_at: datetime | None,
    outdated: bool,
    carried_from: str,
    acting_user: "User",
) -> Vote:
    """A carried vote of an imported bundle, recorded as it was carried (`vote.carried`): the ballot it came
    from is not in this Plenary, so its votes cannot be carried again. For `analysis.imports` only."""
    _require_organizer(ballot, acting_user)
    ballot = _locked(ballot, voter.pk, component.pk, criterion.pk)
    if ballot.status != Ballot.Status.OPEN or ballot.carry_rule == Ballot.CarryRule.NONE:
        raise ValidationError(gettext("Carried votes are brought into an open ballot that carries votes only."))
    if not voting_memberships(ballot, voter).filter(group=group).exists():
        raise ValidationError(
            gettext("@%(handle)s does not vote for %(name)s on this ballot.")
            % {"handle": _handle(voter), "name": group.name}
        )
    _check_cell(ballot, component, criterion)
    if Vote.objects.filter(ballot=ballot, voter=voter, component=component, criterion=criterion).exists():
        raise ValidationError(gettext("A carried vote is the first in its cell."))
    vote = Vote.objects.create(
        ballot=ballot,
        voter=voter,
        group=group,
        component=component,
        criterion=criterion,
        choice=choice,
        rationale=rationale.strip(),
        cast_at=cast_at.astimezone(UTC) if cast_at else timezone.now(),
        cast_by=voter,
        carried=True,
        outdated=outdated,
    )
    _record_carried(ballot, vote, carried_from, acting_user)
    tasks.enqueue_recompute(ballot.pk)
    return vote


def _as_recorded(ballot: Ballot) -> dict:
    """What an edit of the ballot compares: its recorded rules and its description."""
    return ballot_spec(ballot) | {"description": ballot.description}


def _changes(before: dict, after: dict) -> dict:
    """What an edit changed, as its event records it: each changed item's new value, and the previous ones."""
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    return {"changed": changed, "previous": {k: before.get(k) for k in changed}}


@transaction.atomic
def update_ballot(
    *,
    ballot: Ballot,
    acting_user: "User",
    title: str,
    description: str,
    groups: Iterable[WorkingGroup],
    criteria: list[tuple[str, str]],
    choices: list[dict],
    methodology: dict,
    clustering: dict,
    eligibility: str,
    opens_at: datetime | None,
    closes_at: datetime | None,
    remind_before_hours: int | None = None,
) -> Ballot:
    """An organizer edits a ballot that has not opened yet; once open only its window moves (`reschedule_ballot`)."""
    lock_stream(ballot.definition.audit_stream)  # rosters change in this line, then the ballot's: as add_member
    ballot = _locked(ballot)
    _require_organizer(ballot, acting_user)
    if ballot.status != Ballot.Status.SCHEDULED:
        raise ValidationError(
            gettext("Only a scheduled ballot can be edited; this one is %(status)s.")
            % {"status": ballot.get_status_display().lower()}
        )
    groups = list(groups)
    _check_groups(ballot.definition, groups)
    _check_rows(criteria, choices)
    _check_window(opens_at, closes_at)
    validate_methodology(methodology, choices, groups)
    validate_clustering(clustering)
    before = _as_recorded(ballot)
    ballot.title, ballot.description, ballot.eligibility = title, description, eligibility
    ballot.methodology, ballot.clustering, ballot.opens_at, ballot.closes_at = (
        methodology,
        clustering,
        opens_at,
        closes_at,
    )
    if remind_before_hours is not None:  # not a rule of the vote: its audit event does not record it
        ballot.remind_before_hours = remind_before_hours
    ballot.full_clean(exclude=["definition", "version", "created_by"], validate_constraints=False)
    ballot.description_html = render_markdown(description)  # as create_ballot does: the pages show it as stored
    ballot.save()
    ballot.groups.set(groups)
    _write_rows(ballot, criteria, choices)
    changes = _changes(before, _as_recorded(ballot))
    if not changes["changed"]:
        return ballot  # nothing changes, nothing to record
    if "groups" in changes["changed"]:
        changes["roster"] = roster(ballot)  # the new groups' members: their changes follow in this stream
    record(stream=ballot.audit_stream, actor=acting_user, action=Action.BALLOT_UPDATED, subject=ballot, payload=changes)
    return ballot


@transaction.atomic
def reschedule_ballot(*, ballot: Ballot, acting_user: "User", closes_at: datetime | None, reason: str) -> Ballot:
    """An organizer extends or shortens an open ballot's voting time, saying why."""
    ballot = _locked(ballot)
    _require_organizer(ballot, acting_user)
    if ballot.status != Ballot.Status.OPEN:
        raise ValidationError(
            gettext("Only an open ballot's closing time moves this way; this one is %(status)s.")
            % {"status": ballot.get_status_display().lower()}
        )
    reason = _check_reason(reason, "the closing time moves")
    now = timezone.now()
    if closes_at is not None and closes_at <= now:
        raise ValidationError(gettext("The new closing time has passed already; to end voting now, close the ballot."))
    _check_window(ballot.opens_at, closes_at)
    before = _as_recorded(ballot)
    ballot.closes_at = closes_at
    ballot.save(update_fields=["closes_at"])
    changes = _changes(before, _as_recorded(ballot))
    if not changes["changed"]:
        raise ValidationError(gettext("That is the closing time already."))
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.BALLOT_RESCHEDULED,
        subject=ballot,
        payload=changes | {"reason": reason},
    )
    return ballot


@transaction.atomic
def open_ballot(*, ballot: Ballot, acting_user: "User | None", scheduled: bool = False) -> Ballot:
    """Open voting: an organizer's click, or (`scheduled`, no one acting) its opening time come.

    A scheduled opening does nothing unless it is due (it may have opened meanwhile). An organizer who opens
    before the planned time moves the opening time to now: no vote is accepted before `opens_at`.
    """
    ballot = _locked(ballot)
    if scheduled:
        if ballot.status != Ballot.Status.SCHEDULED or ballot.transition_due() is None:
            return ballot
    else:
        assert acting_user is not None  # only a scheduled transition has no one acting
        _require_organizer(ballot, acting_user)
    if ballot.status != Ballot.Status.SCHEDULED:
        raise ValidationError(
            gettext("Only a scheduled ballot can open; this one is %(status)s.")
            % {"status": ballot.get_status_display().lower()}
        )
    now = timezone.now()
    if not scheduled and ballot.closes_at and ballot.closes_at <= now:
        raise ValidationError(gettext("Its closing time has passed; set a later one before opening."))
    payload: dict = {"eligibility": ballot.eligibility}
    if scheduled:
        assert ballot.opens_at is not None  # due: it has an opening time, passed
        payload["scheduled_at"] = ballot.opens_at.isoformat()
    elif ballot.opens_at and ballot.opens_at > now:
        payload["planned_opens_at"], ballot.opens_at = ballot.opens_at.isoformat(), now
    ballot.status, ballot.opened_at = Ballot.Status.OPEN, now
    ballot.save(update_fields=["status", "opened_at", "opens_at"])
    if ballot.roster_frozen_at is not None:
        payload["roster"] = roster(ballot)  # who votes: these members, and nobody added later
    record(stream=ballot.audit_stream, actor=acting_user, action=Action.BALLOT_OPENED, subject=ballot, payload=payload)
    carry_votes(ballot, acting_user)
    _notify_opened(ballot)
    webhooks.emit(ballot.definition, Event.BALLOT_OPENED, {"ballot": ballot.as_announced()})
    return ballot


@transaction.atomic
def close_ballot(*, ballot: Ballot, acting_user: "User | None", reason: str = "", scheduled: bool = False) -> Ballot:
    """Close voting, freeze each group's roster with the ballot and publish sealed votes.

    An organizer's click (before the closing time, with a reason), or (`scheduled`, no one acting) its closing
    time come: then it does nothing unless it is due.
    """
    ballot = _locked(ballot)
    if scheduled:
        if ballot.status != Ballot.Status.OPEN or ballot.transition_due() is None:
            return ballot
    else:
        assert acting_user is not None  # only a scheduled transition has no one acting
        _require_organizer(ballot, acting_user)
    if ballot.status != Ballot.Status.OPEN:
        raise ValidationError(
            gettext("Only an open ballot can close; this one is %(status)s.")
            % {"status": ballot.get_status_display().lower()}
        )
    now = timezone.now()
    payload: dict = {}
    if scheduled:
        assert ballot.closes_at is not None  # due: it has a closing time, passed
        payload["scheduled_at"] = ballot.closes_at.isoformat()
    elif ballot.closes_at is not None and ballot.closes_at > now:
        reason = _check_reason(reason, "voting closes before its closing time")
        payload["planned_closes_at"] = ballot.closes_at.isoformat()
    elif reason.strip():
        reason = _check_reason(reason, "voting closes")
    if reason:
        payload["reason"] = ballot.close_reason = reason
    ballot.status, ballot.closed_at = Ballot.Status.CLOSED, now
    ballot.roster_at_close = roster(ballot)
    ballot.save(update_fields=["status", "closed_at", "roster_at_close", "close_reason"])
    unseal(ballot.audit_stream)
    tasks.enqueue_recompute(ballot.pk)
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.BALLOT_CLOSED,
        subject=ballot,
        payload={"votes": ballot.votes.count(), "roster": ballot.roster_at_close} | payload,
    )
    _notify_closed(ballot)
    _announce_closed(ballot)
    return ballot


def _announce_closed(ballot: Ballot) -> None:
    """The ballot's webhooks are told it closed: its votes are public from now, so how many and where to get them."""
    args = [ballot.definition.slug, ballot.key]
    data = ballot.as_announced() | {
        "votes": ballot.votes.count(),
        "results_url": webhooks.absolute(reverse("analysis:results", args=args)),
        "tally_url": webhooks.absolute(reverse("analysis:tally-download", args=args)),
    }
    webhooks.emit(ballot.definition, Event.BALLOT_CLOSED, {"ballot": data})


def _notify_closed(ballot: Ballot) -> None:
    """Everyone with a vote on the closed ballot is told where their receipts are, and how to check them.

    Sent once the votes are unsealed, in the closing's transaction; it says nothing of anyone's votes."""
    named = {"ballot": ballot.title, "title": ballot.definition.title, "label": ballot.version.label}
    with site_language():
        message = Message(
            kind=Kind.BALLOT_CLOSED,
            key=f"ballot-closed:{ballot.pk}",
            subject=gettext("Voting closed: %(ballot)s") % named,
            body=gettext(
                "Voting on “%(ballot)s” (%(title)s %(label)s) has closed. Your receipts prove that each vote you cast "
                "is in the ballot's signed record: download them from the ballot's page and check them against its "
                "tally bundle, with no server, by running python -m analysis.tally receipt RECEIPTS --against BUNDLE."
            )
            % named,
            path=ballot.get_absolute_url(),
        )
    announce(ballot.votes.order_by().values_list("voter_id", flat=True).distinct(), message)


def apply_schedule(ballot: Ballot) -> Ballot:
    """Open, then close, the ballot if its times have come: what reading its pages and the scheduler both do."""
    if ballot.status == Ballot.Status.SCHEDULED and ballot.transition_due() is not None:
        ballot = open_ballot(ballot=ballot, acting_user=None, scheduled=True)
    if ballot.status == Ballot.Status.OPEN and ballot.transition_due() is not None:
        ballot = close_ballot(ballot=ballot, acting_user=None, scheduled=True)
    return ballot


def apply_schedules(ballots: BallotQuerySet | None = None) -> list[Ballot]:
    """Every ballot (of `ballots`, else all) whose opening or closing time has come, moved on: the periodic task
    and the command, and the pages and feeds that list ballots, which show them as they are."""
    ballots = Ballot.objects.all() if ballots is None else ballots
    return [apply_schedule(ballot) for ballot in ballots.due().select_related("definition", "version")]


# Telling the members: voting opened, voting closes soon -------------------------------------


def cell_count(ballot: Ballot) -> int:
    """The cells each voter votes on: every component of the version but the aggregates, on every criterion."""
    return ballot.version.components.leaves().count() * ballot.criteria.count()


def _eligible_voters(ballot: Ballot):
    """The active users who may vote on the ballot (`access.eligible_memberships`), each once."""
    voters = eligible_memberships(ballot).order_by().values("user_id")
    return get_user_model().objects.filter(pk__in=voters, is_active=True).order_by("pk")


def _closing_time(ballot: Ballot) -> str:
    if ballot.closes_at is None:
        return gettext("It has no closing time yet: an organizer closes it.")
    closes = ballot.closes_at.astimezone(UTC)
    return gettext("It closes on %(date)s at %(time)s UTC.") % {
        "date": date_format(closes, "DATE_FORMAT"),
        "time": date_format(closes, "TIME_FORMAT"),
    }


def _notify_opened(ballot: Ballot) -> None:
    """Every member who may vote is told, in the opening's transaction: what, until when, how many cells.

    Nothing of the votes is said (none is cast yet, and a sealed ballot's stay sealed). To many, one row is written
    here and a worker writes each notification and queues the e-mails (`notifications.services.announce`)."""
    cells = cell_count(ballot)
    named = {"ballot": ballot.title, "title": ballot.definition.title, "label": ballot.version.label, "n": cells}
    with site_language():
        body = gettext("Voting on “%(ballot)s” (%(title)s %(label)s) is open.") % named
        body += " " + _closing_time(ballot) + " "
        body += ngettext("You have %(n)s cell to vote on.", "You have %(n)s cells to vote on.", cells) % named
        message = Message(
            kind=Kind.BALLOT_OPENED,
            key=f"ballot-opened:{ballot.pk}",
            subject=gettext("Voting opened: %(ballot)s") % named,
            body=body,
            path=ballot.get_absolute_url(),
        )
    announce(_eligible_voters(ballot).values_list("pk", flat=True), message)


def remind_closing(now: datetime | None = None) -> int:
    """Remind each member who may vote and has cells without a vote that an open ballot closes soon, saying how
    many: once per ballot and member, from `remind_before_hours` before its closing time. A ballot that opened
    after that time sends none (its opening told them the closing time). The periodic task and the command run
    this; how many reminders it wrote."""
    now = now or timezone.now()
    candidates = Ballot.objects.filter(
        status=Ballot.Status.OPEN, remind_before_hours__gt=0, closes_at__gt=now
    ).select_related("definition", "version")
    written = 0
    for ballot in candidates:
        reminder_at = ballot.reminder_at
        assert reminder_at is not None  # it has a closing time and a reminder
        if now < reminder_at or ballot.opened_at is None or ballot.opened_at > reminder_at:
            continue
        with transaction.atomic():
            written += _remind(ballot)
    return written


def _remind(ballot: Ballot) -> int:
    cells = cell_count(ballot)
    voted = dict(ballot.votes.order_by().values_list("voter_id").annotate(n=Count("pk")))
    left: dict[int, list] = {}
    for voter in _eligible_voters(ballot).only("pk", "is_active"):
        missing = cells - voted.get(voter.pk, 0)
        if missing > 0:
            left.setdefault(missing, []).append(voter)
    hours = ballot.remind_before_hours
    written = 0
    for missing, voters in sorted(left.items()):
        named = {"ballot": ballot.title, "title": ballot.definition.title, "label": ballot.version.label}
        with site_language():
            subject = ngettext(
                "Voting closes in an hour: %(ballot)s", "Voting closes within %(hours)s hours: %(ballot)s", hours
            ) % (named | {"hours": hours})
            body = gettext("Voting on “%(ballot)s” (%(title)s %(label)s) closes soon.") % named
            body += " " + _closing_time(ballot) + " "
            body += ngettext("You have %(n)s cell without a vote.", "You have %(n)s cells without a vote.", missing) % {
                "n": missing
            }
            message = Message(
                kind=Kind.BALLOT_CLOSING,
                key=f"ballot-closing:{ballot.pk}",
                subject=subject,
                body=body,
                path=ballot.get_absolute_url(),
            )
        written += len(notify(voters, message))
    return written


# Veto grants ---------------------------------------------------------------------------------


@transaction.atomic
def grant_veto(
    *,
    ballot: Ballot,
    choice: Choice,
    reason: str,
    acting_user: "User",
    group: WorkingGroup | None = None,
    member: "User | None" = None,
    category: str = "",
) -> VetoGrant:
    ballot = _locked(ballot)
    _require_organizer(ballot, acting_user)
    if ballot.status == Ballot.Status.CLOSED:
        raise ValidationError(gettext("The ballot is closed; grants can no longer change."))
    if choice.ballot_id != ballot.pk or not choice.requires_grant:
        raise ValidationError(gettext("Grants are for the ballot's restricted choices only."))
    if (group is None) == (member is None):
        raise ValidationError(gettext("Grant the choice to one working group or to one member."))
    if group is not None and not ballot.groups.filter(pk=group.pk).exists():
        raise ValidationError(gettext("%(name)s is not enrolled in this ballot.") % {"name": group.name})
    if member is not None and not voting_memberships(ballot, member).exists():
        raise ValidationError(
            gettext("@%(handle)s is not a member of a group enrolled in this ballot.") % {"handle": _handle(member)}
        )
    if category and not ballot.version.components.filter(category=category).exists():
        raise ValidationError(
            gettext("Version %(label)s has no component in category %(category)s.")
            % {"label": ballot.version.label, "category": category}
        )
    if not reason.strip():
        raise ValidationError(gettext("A grant needs a reason; it is shown publicly."))
    grant = VetoGrant.objects.create(
        ballot=ballot,
        choice=choice,
        group=group,
        member=member,
        category=category,
        reason=reason.strip(),
        granted_by=acting_user,
    )
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.GRANT_MADE,
        subject=grant,
        payload=grant.as_recorded(),
    )
    return grant


@transaction.atomic
def revoke_grant(*, grant: VetoGrant, reason: str, acting_user: "User") -> VetoGrant:
    ballot = _locked(grant.ballot)
    _require_organizer(ballot, acting_user)
    grant = VetoGrant.objects.select_related("choice", "group", "member").get(pk=grant.pk)
    if grant.revoked_at is not None:
        raise ValidationError(gettext("This grant is already revoked."))
    if ballot.status == Ballot.Status.CLOSED:
        raise ValidationError(gettext("The ballot is closed; grants can no longer change."))
    if not reason.strip():
        raise ValidationError(gettext("Say why the grant is revoked; the reason is shown publicly."))
    grant.revoked_at, grant.revoked_by, grant.revoke_reason = timezone.now(), acting_user, reason.strip()
    grant.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.GRANT_REVOKED,
        subject=grant,
        payload=grant.as_recorded() | {"revoke_reason": grant.revoke_reason} | _uses(ballot, grant),
    )
    return grant


def _uses(ballot: Ballot, grant: VetoGrant) -> dict:
    """How many votes used the grant, for the record; nothing while the votes are sealed (it would count them)."""
    return {"used_by_votes": grant.votes.count()} if ballot.results_public else {}


# Votes ---------------------------------------------------------------------------------------


def _vote_payload(ballot: Ballot, vote: Vote, previous: dict | None, acting_user: "User") -> dict:
    """What a vote event records. While the votes are sealed it also carries a random salt, published with the
    rest when the ballot closes: the public hashes commit to the vote, but nobody can search for it by trying
    every voter, cell and choice against them."""
    salt = {} if ballot.results_public else {"salt": secrets.token_hex(16)}
    return salt | {
        "voter": _handle(vote.voter),
        "group": vote.group.key,
        "component": vote.component.key,
        "criterion": vote.criterion.key,
        "choice": vote.choice.key,
        "value": vote.choice.value,
        "rationale": vote.rationale,
        "grant": vote.grant_id,
        "cast_by": _handle(acting_user),
        "cast_at": vote.cast_at.isoformat(),
        "previous": previous,
    }


@transaction.atomic
def read_sealed_votes(*, ballot: Ballot, voter: "User", acting_user: "User") -> None:
    """An organizer opens a member's grid while the votes are sealed, and so sees that member's votes: on the record.

    Organizers may read a member's sealed votes only to record votes on the member's behalf; each time they do,
    the public log says who read whose, and when. The member and every observer see it before the ballot closes.
    """
    if ballot.results_public or voter.pk == acting_user.pk:
        return  # nothing sealed from this reader: no lock taken, nothing written
    ballot = _locked(ballot)
    _require_organizer(ballot, acting_user)
    if ballot.results_public:
        return  # it closed meanwhile
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.BALLOT_SEALED_VOTES_READ,
        subject=ballot,
        payload={"voter": _handle(voter)},
    )


def _check_window_and_actor(ballot: Ballot, rights: VotingRights) -> None:
    """The clock decides, not the scheduler: before `opens_at` or from `closes_at` on, no vote and no withdrawal,
    whether or not the ballot's status has been moved on yet (`Ballot.accepts_votes`)."""
    rights.check_acting_user()
    if not ballot.accepts_votes():
        now = timezone.now()
        if ballot.status == Ballot.Status.SCHEDULED or (ballot.opens_at and now < ballot.opens_at):
            raise ValidationError(gettext("Voting on this ballot has not opened yet."))
        raise ValidationError(gettext("Voting on this ballot has closed."))


def _hold_membership(membership: Membership, voter: "User") -> None:
    """Hold the membership row until the vote commits, under the ballot's lock: one indexed read.

    A removal (`deliberation.services.remove_member` locks and updates this row) either committed
    before, and the vote is refused, or waits until the vote has committed: never a vote after it.
    """
    current = Membership.objects.select_for_update(no_key=True).filter(pk=membership.pk, left_at__isnull=True)
    if not current.exists():
        raise PermissionDenied(
            gettext("@%(handle)s is no longer a member of %(name)s.")
            % {"handle": _handle(voter), "name": membership.group.name}
        )


def _check_cell(ballot: Ballot, component: Component, criterion: Criterion) -> None:
    if component.version_id != ballot.version_id:
        raise ValidationError(gettext("That component is not part of the version this ballot is on."))
    if component.is_aggregate:
        raise ValidationError(
            gettext("%(title)s is an aggregate: its score comes from its parts, not from votes.")
            % {"title": component.title}
        )
    if criterion.ballot_id != ballot.pk:
        raise ValidationError(gettext("That criterion is not part of this ballot."))


@transaction.atomic
def cast_vote(
    *,
    ballot: Ballot,
    voter: "User",
    component: Component,
    criterion: Criterion,
    choice: Choice,
    rationale: str = "",
    group: WorkingGroup | None = None,
    acting_user: "User | None" = None,
    cast_at: datetime | None = None,
    memberships: list[Membership] | None = None,
) -> Vote:
    """Cast or change the voter's vote on one component and criterion.

    `cast_at` is for votes brought in from elsewhere (an imported tally); the audit event
    still records when Plenary stored the vote. `memberships` are the voter's `voting_memberships`
    when the caller has just read them (the vote grid), as this would before taking the ballot's place.
    """
    rights = VotingRights(ballot, voter, acting_user, memberships)
    acting_user = acting_user or voter  # as `rights` has it
    # Rosters change in their definition's line, not the ballot's: read before taking the ballot's place in line,
    # which every query until the commit holds; the chosen membership is then held under it (`_hold_membership`).
    rights.memberships  # noqa: B018
    ballot = rights.ballot = _locked(ballot, voter.pk, component.pk, criterion.pk)
    _check_window_and_actor(ballot, rights)
    membership = rights.membership(group)
    _hold_membership(membership, voter)
    group = membership.group
    _check_cell(ballot, component, criterion)
    if choice.ballot_id != ballot.pk:
        raise ValidationError(gettext("That choice is not on this ballot's scale."))
    rationale = rationale.strip()
    rationale_length(rationale)
    cell = {"ballot": ballot, "voter": voter, "component": component, "criterion": criterion}
    # one row by its unique key: no ORDER BY, which Vote's ordering would make a join through ballot and definition
    vote = Vote.objects.filter(**cell).select_related("choice").order_by().first()
    grant = rights.check_choice(choice, component, vote)  # read now, under the ballot's lock
    if choice.requires_rationale and not rationale:
        raise ValidationError(gettext("A vote “%(label)s” needs a rationale.") % {"label": choice.label})
    unchanged = (choice.pk, rationale, group.pk, grant.pk if grant else None)
    if vote and not vote.carried and (vote.choice_id, vote.rationale, vote.group_id, vote.grant_id) == unchanged:
        return vote  # nothing changes, nothing to record (a carried vote cast again is confirmed: recorded)
    previous = {"choice": vote.choice.key, "rationale": vote.rationale} if vote else None
    if vote:
        vote.ballot, vote.voter, vote.component, vote.criterion = ballot, voter, component, criterion  # the same rows
    vote = vote or Vote(**cell)
    vote.group, vote.choice, vote.grant, vote.rationale = group, choice, grant, rationale
    vote.cast_at = cast_at.astimezone(UTC) if cast_at else timezone.now()  # stored and recorded alike, in UTC
    vote.cast_by = acting_user
    vote.carried = vote.outdated = False  # the voter's own now, confirmed or changed
    vote.save()
    if acting_user.pk != voter.pk:
        action = Action.VOTE_CAST_ON_BEHALF
    else:
        action = Action.VOTE_CHANGED if previous else Action.VOTE_CAST
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=action,
        subject=vote,
        payload=_vote_payload(ballot, vote, previous, acting_user),
        queued=True,
    )
    tasks.enqueue_recompute(ballot.pk)
    return vote


@transaction.atomic
def withdraw_vote(
    *, ballot: Ballot, voter: "User", component: Component, criterion: Criterion, acting_user: "User | None" = None
) -> None:
    rights = VotingRights(ballot, voter, acting_user)
    acting_user = acting_user or voter  # as `rights` has it
    ballot = rights.ballot = _locked(ballot, voter.pk, component.pk, criterion.pk)
    _check_window_and_actor(ballot, rights)
    vote = (
        Vote.objects.filter(ballot=ballot, voter=voter, component=component, criterion=criterion)
        .select_related("voter", "group", "component", "criterion", "choice")
        .order_by()
        .first()
    )
    if vote is None:
        raise ValidationError(gettext("There is no vote to withdraw here."))
    payload = _vote_payload(ballot, vote, None, acting_user)
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.VOTE_WITHDRAWN,
        subject=vote,
        payload=payload,
        queued=True,
    )
    vote.delete()
    tasks.enqueue_recompute(ballot.pk)


# Disputes ------------------------------------------------------------------------------------


@transaction.atomic
def raise_dispute(
    *,
    ballot: Ballot,
    raised_by: "User",
    reason: str,
    voter: "User | None" = None,
    group: WorkingGroup | None = None,
    choice: Choice | None = None,
    component: Component | None = None,
    criterion: Criterion | None = None,
) -> Dispute:
    """Challenge every current vote that matches all the given selectors."""
    ballot = _locked(ballot)
    if not may_dispute(ballot, raised_by):
        raise PermissionDenied(gettext("Only members of the definition's working groups can raise a dispute."))
    if not ballot.results_public:
        raise ValidationError(
            gettext("The votes on this ballot are sealed until it closes; disputes can be raised then.")
        )
    if not reason.strip():
        raise ValidationError(gettext("Say why you dispute these votes; the reason is public."))
    if len(reason.strip()) > REASON_MAX_LENGTH:
        raise ValidationError(
            gettext("A reason can be at most %(limit)d characters long; this one has %(length)d.")
            % {"limit": REASON_MAX_LENGTH, "length": len(reason.strip())}
        )
    if not any((voter, group, choice, component, criterion)):
        raise ValidationError(
            gettext("Say which votes you dispute: a voter, a group, a choice, a component or a criterion.")
        )
    if group is not None and not ballot.groups.filter(pk=group.pk).exists():
        raise ValidationError(gettext("%(name)s is not enrolled in this ballot.") % {"name": group.name})
    if (choice and choice.ballot_id != ballot.pk) or (criterion and criterion.ballot_id != ballot.pk):
        raise ValidationError(gettext("That choice or criterion is not part of this ballot."))
    if component is not None and component.version_id != ballot.version_id:
        raise ValidationError(gettext("That component is not part of the version this ballot is on."))
    dispute = Dispute(
        ballot=ballot,
        raised_by=raised_by,
        reason=reason.strip(),
        voter=voter,
        group=group,
        choice=choice,
        component=component,
        criterion=criterion,
    )
    matched = ballot.votes.filter(**dispute.selectors()).count()
    if not matched:
        raise ValidationError(gettext("No current vote matches that selection; there is nothing to dispute."))
    dispute.save()
    record(
        stream=ballot.audit_stream,
        actor=raised_by,
        action=Action.DISPUTE_RAISED,
        subject=dispute,
        payload=dispute.as_recorded() | {"votes": matched},
    )
    _tell_voters(dispute, ballot, raised=True, acting_user=raised_by)
    tasks.enqueue_recompute(ballot.pk)
    return dispute


@transaction.atomic
def resolve_dispute(*, dispute: Dispute, status: str, resolution: str, acting_user: "User") -> Dispute:
    ballot = _locked(dispute.ballot)
    _require_organizer(ballot, acting_user)
    dispute = Dispute.objects.with_people().get(pk=dispute.pk)
    if dispute.status != Dispute.Status.OPEN:
        raise ValidationError(
            gettext("This dispute is already %(status)s.") % {"status": dispute.get_status_display().lower()}
        )
    if status not in (Dispute.Status.UPHELD, Dispute.Status.DISMISSED):
        raise ValidationError(gettext("A dispute is resolved as upheld or dismissed."))
    if not resolution.strip():
        raise ValidationError(gettext("Explain the resolution; it is shown publicly."))
    dispute.status, dispute.resolution = status, resolution.strip()
    dispute.resolved_by, dispute.resolved_at = acting_user, timezone.now()
    dispute.save(update_fields=["status", "resolution", "resolved_by", "resolved_at"])
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.DISPUTE_RESOLVED,
        subject=dispute,
        payload=dispute.as_recorded(),
    )
    _tell_voters(dispute, ballot, raised=False, acting_user=acting_user)
    tasks.enqueue_recompute(ballot.pk)
    return dispute


def _tell_voters(dispute: Dispute, ballot: Ballot, *, raised: bool, acting_user: "User") -> None:
    """Tell the voters whose current votes the dispute covers (but whoever acted) that it was raised or resolved.

    While the ballot's results are sealed, the message says only that a dispute covers some of their votes: not
    what it selects, why, or how it was resolved, which could tell of choices not yet published.
    """
    voters = get_user_model().objects.filter(pk__in=ballot.votes.filter(**dispute.selectors()).values("voter"))
    named = {
        "ballot": ballot.title,
        "title": ballot.definition.title,
        "who": _handle(acting_user),
        "selection": dispute.selection,
        "reason": dispute.reason,
        "resolution": dispute.resolution,
    }
    path = reverse("votes:disputes", args=[ballot.definition.slug, ballot.key])
    with site_language():
        if not ballot.results_public:
            subject = gettext("A dispute covers some of your votes on %(ballot)s") % named
            if raised:
                body = gettext(
                    "A dispute that covers some of your votes on the ballot %(ballot)s of %(title)s was raised."
                )
            else:
                body = gettext(
                    "A dispute that covers some of your votes on the ballot %(ballot)s of %(title)s was resolved."
                )
            body = body % named + " " + gettext("What it covers is shown when the ballot's results are published.")
            path = ballot.get_absolute_url()
        elif raised:
            subject = gettext("Your votes on %(ballot)s are disputed") % named
            body = (
                gettext(
                    "@%(who)s disputes the %(selection)s on the ballot %(ballot)s of %(title)s.\n\nThe reason: "
                    "%(reason)s"
                )
                % named
            )
        elif dispute.status == Dispute.Status.UPHELD:
            subject = gettext("A dispute over your votes on %(ballot)s was upheld") % named
            body = (
                gettext(
                    "@%(who)s upheld the dispute over the %(selection)s on the ballot %(ballot)s of %(title)s.\n\n"
                    "The resolution: %(resolution)s"
                )
                % named
            )
        else:
            subject = gettext("A dispute over your votes on %(ballot)s was dismissed") % named
            body = (
                gettext(
                    "@%(who)s dismissed the dispute over the %(selection)s on the ballot %(ballot)s of %(title)s.\n\n"
                    "The resolution: %(resolution)s"
                )
                % named
            )
    key = f"dispute:{dispute.pk}:{'raised' if raised else 'resolved'}"
    notify(voters.exclude(pk=acting_user.pk), Message(Kind.DISPUTE, key, subject, body, path))


# Declared conflicts of interest --------------------------------------------------------------


def _check_register_open(ballot: Ballot, what: str) -> None:
    """Conflicts are declared and withdrawn before or while voting: by the clock, as votes are."""
    closes_at = ballot.closes_at
    if ballot.status == Ballot.Status.CLOSED or (closes_at is not None and closes_at <= timezone.now()):
        raise ValidationError(gettext("Voting on this ballot has closed; %(what)s.") % {"what": what})


def _check_statement(text: str, what: str) -> str:
    text = text.strip()
    statement_length(text)
    if not text and what:
        raise ValidationError(
            gettext("Say %(what)s; the statement is shown on the ballot's register of conflicts.") % {"what": what}
        )
    return text


@transaction.atomic
def declare_conflict(
    *, ballot: Ballot, member: "User", statement: str, component: Component | None = None
) -> ConflictDeclaration:
    """A member who votes on the ballot declares their own conflict of interest in it, or in one component.

    While it stands, the member's votes it covers are conflicted (`VoteQuerySet.conflicted`), and the
    `without-conflicts` scenario leaves them out.
    """
    memberships = voting_memberships(ballot, member).exists()  # rosters change in their own line: read first
    ballot = _locked(ballot)
    if not memberships:
        raise PermissionDenied(
            gettext("Only members who vote on this ballot declare a conflict of interest in it; @%(handle)s does not.")
            % {"handle": _handle(member)}
        )
    _check_register_open(ballot, "conflicts of interest can no longer be declared")
    if component is not None:
        if component.version_id != ballot.version_id:
            raise ValidationError(gettext("That component is not part of the version this ballot is on."))
        if component.is_aggregate:
            raise ValidationError(
                gettext("%(title)s is an aggregate and is not voted on: declare the conflict on its parts.")
                % {"title": component.title}
            )
    statement = _check_statement(statement, "what your interest is")
    standing = ballot.conflicts.standing().filter(member=member, component=component)
    if standing.exists():
        scope = f"in {component.title}" if component is not None else "in the whole ballot"
        raise ValidationError(
            gettext("@%(handle)s has already declared a conflict of interest %(scope)s.")
            % {"handle": _handle(member), "scope": scope}
        )
    declaration = ConflictDeclaration.objects.create(
        ballot=ballot, member=member, component=component, statement=statement
    )
    record(
        stream=ballot.audit_stream,
        actor=member,
        action=Action.CONFLICT_DECLARED,
        subject=declaration,
        payload=declaration.as_data(),
    )
    tasks.enqueue_recompute(ballot.pk)
    return declaration


@transaction.atomic
def withdraw_conflict(
    *, declaration: ConflictDeclaration, acting_user: "User", reason: str = ""
) -> ConflictDeclaration:
    """The member who declared a conflict withdraws it, optionally saying why; the declaration stays on record."""
    ballot = _locked(declaration.ballot)
    declaration = ConflictDeclaration.objects.with_people().get(pk=declaration.pk)
    if declaration.member_id != acting_user.pk:
        raise PermissionDenied(gettext("Only the member who declared a conflict of interest withdraws it."))
    if declaration.withdrawn_at is not None:
        raise ValidationError(gettext("This declaration is already withdrawn."))
    _check_register_open(ballot, "its register of conflicts of interest no longer changes")
    declaration.withdrawn_at, declaration.withdrawn_reason = timezone.now(), _check_statement(reason, "")
    declaration.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    record(
        stream=ballot.audit_stream,
        actor=acting_user,
        action=Action.CONFLICT_WITHDRAWN,
        subject=declaration,
        payload=declaration.as_data() | {"reason": declaration.withdrawn_reason},
    )
    tasks.enqueue_recompute(ballot.pk)
    return declaration
