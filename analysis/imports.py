"""Bring a tally bundle in (`python manage.py import_tally`): a ballot exported elsewhere, or a group's spreadsheet.

The files are read and checked by `analysis.tally` first, without touching the database
(with the manifest's hashes when there is a manifest). Then everything is created through
the same services as the web app, so the audit log records the import as it records any
ballot, and in one transaction: a problem anywhere leaves nothing behind. The importing
organizer creates the definition, version, groups, ballot and grants, enters each vote on
its voter's behalf (so the log tells who voted from who entered it) and resolves disputes; each declared
conflict of interest is declared (and withdrawn) by its member.

The bundle's handles become new accounts. A handle that already has an account here (`admin`,
or a member of another definition) is refused unless the import is asked to use existing
accounts: it would make that person a member and enter votes in their name.
"""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

import plenary_tally as tally
from deliberation import handles as handle_rules
from deliberation import services as deliberation
from deliberation.models import Component, Definition, DraftVersion, Membership, WorkingGroup
from plenary_tally import BundleError, formats
from votes import services as votes
from votes.models import Ballot, Choice, Criterion

if TYPE_CHECKING:
    from django.contrib.auth.models import User

RELEASE_NOTES = "Imported from a tally bundle"
EMAIL_DOMAIN = "imported.invalid"


USE_EXISTING = "--use-existing-accounts"
NAMED = 5  # existing accounts named in a refusal; the rest are counted


@dataclass(frozen=True)
class Imported:
    ballot: Ballot
    votes: int
    accounts_created: int
    accounts_used: int = 0  # existing accounts made members and voted for (only with use_existing_accounts)


def import_bundle(
    path: str | Path, *, organizer: str = "importer", use_existing_accounts: bool = False, dry_run: bool = False
) -> Imported:
    """Check the bundle at `path`, then create its ballot and everything around it; with `dry_run`, roll back.

    A handle of the bundle that already has an account is refused, unless `use_existing_accounts`.
    """
    with tally.open_bundle(path) as bundle:
        if formats.MANIFEST_FILE in bundle.names:
            _, problems = tally.check_manifest(bundle)
            if problems:
                raise problems[0]
        ballot = tally.read_ballot(bundle)
        votes_in_file = tally.count_votes(bundle, ballot).votes  # every row checked before anything is written
        if ballot.status == "scheduled" and votes_in_file:
            raise BundleError(
                formats.BALLOT_FILE, None, f"status: a scheduled ballot has no votes, but votes.csv has {votes_in_file}"
            )
        with transaction.atomic():
            imported = _create(bundle, ballot, organizer, use_existing_accounts)
            transaction.set_rollback(dry_run)
    return imported


def _create(bundle: tally.Bundle, ballot: tally.Ballot, organizer_handle: str, use_existing: bool) -> Imported:
    data = ballot.data
    slug = data["definition"]["slug"]
    if Definition.objects.filter(slug=slug).exists():
        message = f"definition.slug: a definition {slug!r} already exists; an import never adds to one"
        raise BundleError(formats.BALLOT_FILE, None, message)
    users, accounts_created, accounts_used = _accounts(ballot.handles, organizer_handle, use_existing)
    organizer = users[organizer_handle]
    with _blame("definition"):
        definition = deliberation.create_definition(
            slug=slug,
            title=data["definition"]["title"],
            organizers=[organizer],
            acting_user=organizer,
            from_the_command_line=True,
        )
    version, components = _version(definition, data, organizer)
    groups = _groups(definition, ballot, users, organizer)
    with _blame("ballot"):
        created = votes.create_ballot(
            version=version,
            key=ballot.key,
            title=data["title"],
            groups=list(groups.values()),
            criteria=[(c["key"], c["label"]) for c in data["criteria"]],
            choices=[
                {
                    "key": c["key"],
                    "label": c["label"],
                    "value": c["value"],
                    **{f: bool(c.get(f)) for f in ("requires_grant", "blocking", "requires_rationale")},
                }
                for c in data["choices"]
            ],
            acting_user=organizer,
            results_visibility=Ballot.Visibility.LIVE,
            eligibility=data.get("eligibility") or Ballot.Eligibility.LIVE,  # a bundle without the rule is live
            methodology=data["methodology"],
            clustering=data["clustering"],
            **_carry(data),
        )
    choices = {c.key: c for c in created.choices.all()}
    criteria = {c.key: c for c in created.criteria.all()}
    grants = []
    for i, g in enumerate(ballot.grants):
        with _blame(f"grants[{i}]"):
            to_group = g.holder_kind == "group"
            grant = votes.grant_veto(
                ballot=created,
                choice=choices[g.choice],
                reason=g.reason,
                category=g.category or "",
                acting_user=organizer,
                group=groups[g.holder] if to_group else None,
                member=None if to_group else users[g.holder],
            )
            grants.append((i, g, grant))
    if ballot.status != "scheduled":
        created = votes.open_ballot(ballot=created, acting_user=organizer)

    count = 0
    carried_from = ((data.get("carry") or {}).get("from") or {}).get("key") or ""
    for vote in tally.read_votes(bundle, ballot):
        with _blame(None, file=formats.VOTES_FILE, line=vote.line):
            if vote.carried:  # carried, and not confirmed since: it comes in carried, as the log recorded it
                votes.import_carried_vote(
                    ballot=created,
                    voter=users[vote.voter],
                    group=groups[vote.group],
                    component=components[vote.component],
                    criterion=criteria[vote.criterion],
                    choice=choices[vote.choice],
                    rationale=vote.rationale,
                    cast_at=vote.cast_at,
                    outdated=vote.outdated,
                    carried_from=carried_from,
                    acting_user=organizer,
                )
                count += 1
                continue
            votes.cast_vote(
                ballot=created,
                voter=users[vote.voter],
                group=groups[vote.group],
                component=components[vote.component],
                criterion=criteria[vote.criterion],
                choice=choices[vote.choice],
                rationale=vote.rationale,
                cast_at=vote.cast_at,
                acting_user=organizer,
            )
        count += 1
    _disputes(created, ballot, users, organizer, groups, components, criteria, choices)
    _conflicts(created, ballot, users, components)
    for i, g, grant in grants:
        if g.revoked_at is not None:
            with _blame(f"grants[{i}]"):
                reason = f"Revoked on {g.revoked_at.isoformat()}, before the ballot was imported."
                votes.revoke_grant(grant=grant, reason=reason, acting_user=organizer)
    for i, g in enumerate(data["working_groups"]):  # they voted, then left: the roster at close is `members`
        for handle in sorted(ballot.former[g["key"]]):
            with _blame(f"working_groups[{i}]"):
                membership = groups[g["key"]].memberships.current().get(user=users[handle])
                deliberation.remove_member(membership=membership, acting_user=organizer)
    if ballot.status == "closed":
        created = votes.close_ballot(ballot=created, acting_user=organizer)
    return Imported(ballot=created, votes=count, accounts_created=accounts_created, accounts_used=accounts_used)


def _carry(data: Mapping[str, Any]) -> dict:
    """What ballot.json says the ballot carries, as `create_ballot` takes it: the ballot carried from is not here."""
    carry = data.get("carry")
    if not isinstance(carry, dict):
        return {}
    return {"carry_rule": carry.get("rule"), "carry_mapping": carry.get("mapping") or {}, "carried_elsewhere": True}


def _accounts(handles: frozenset[str], organizer: str, use_existing: bool) -> tuple[dict[str, "User"], int, int]:
    """Everyone by handle, how many accounts were created, and how many existing ones the ballot uses.

    A handle with no account gets one, active, that signs in only once given a password. A handle
    of the ballot's groups that has one is refused unless `use_existing`; the organizer who imports
    may have one (they are named by whoever runs the import).
    """
    User = get_user_model()
    users = {u.get_username(): u for u in User.objects.filter(username__in=handles | {organizer})}
    existing = sorted(handles & users.keys())
    if existing and not use_existing:
        have = "already has an account" if len(existing) == 1 else "already have accounts"
        raise BundleError(
            formats.BALLOT_FILE,
            None,
            f"working_groups: {_listed(existing)} {have} here; an import makes an existing account a member"
            f" and enters votes in its name only when asked to, with {USE_EXISTING}",
        )
    missing = sorted((handles | {organizer}) - users.keys())
    for handle in missing:  # a new account's handle obeys the sign-up page's rules (deliberation/handles.py)
        if reason := handle_rules.problem(handle):
            raise BundleError(formats.BALLOT_FILE, None, reason)
    if found := handle_rules.lookalike(missing):
        raise BundleError(formats.BALLOT_FILE, None, handle_rules.looks_like(*found))
    for handle in missing:
        user = User(username=handle, email=f"{handle}@{EMAIL_DOMAIN}")
        user.set_unusable_password()
        user.save()
        users[handle] = user
    return users, len(missing), len(existing)


def _listed(handles: list[str]) -> str:
    """'a', 'b' and 'c'; past NAMED of them, the rest counted."""
    shown = [repr(h) for h in handles[:NAMED]]
    if len(handles) > NAMED:
        return f"{', '.join(shown)} and {len(handles) - NAMED} more"
    return shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"


def _version(
    definition: Definition, data: Mapping[str, Any], organizer: "User"
) -> tuple[DraftVersion, dict[str, Component]]:
    """The version voted on, with its components in the file's order, published.

    The analysis reads components by category and then by position, so they are added in the
    order listed; an aggregate listed before one of its parts is added first, and given its
    parts once they exist.
    """
    with _blame("version"):
        version = deliberation.start_draft(definition=definition, label=data["version"], acting_user=organizer)
    components: dict[str, Component] = {}
    waiting = []
    for i, c in enumerate(data["components"]):
        aggregate = c.get("aggregate") or {}
        ready = all(part in components for part in aggregate.get("of", ()))
        fields = {"key": c["key"], "title": c["title"], "category": c["category"]}
        with _blame(f"components[{i}]"):
            components[c["key"]] = deliberation.add_component(
                version=version,
                fields=fields | {"aggregate_rule": aggregate.get("rule", "") if ready else ""},
                parts=[components[p] for p in aggregate.get("of", ())] if ready else [],
                acting_user=organizer,
            )
        if not ready:
            waiting.append((i, c["key"], aggregate))
    for i, key, aggregate in waiting:
        with _blame(f"components[{i}]"):
            components[key] = deliberation.update_component(
                component=components[key],
                fields={"aggregate_rule": aggregate["rule"]},
                parts=[components[p] for p in aggregate["of"]],
                acting_user=organizer,
            )
    with _blame("version"):
        version = deliberation.publish_version(version=version, release_notes=RELEASE_NOTES, acting_user=organizer)
    return version, components


def _groups(
    definition: Definition, ballot: tally.Ballot, users: dict[str, "User"], organizer: "User"
) -> dict[str, WorkingGroup]:
    groups = {}
    for i, g in enumerate(ballot.data["working_groups"]):
        with _blame(f"working_groups[{i}]"):
            group = deliberation.create_group(
                definition=definition, key=g["key"], name=g["name"], acting_user=organizer
            )
            for handle in g["members"]:
                role = Membership.Role.CHAIR if handle in ballot.chairs[g["key"]] else Membership.Role.MEMBER
                deliberation.add_member(group=group, user=users[handle], role=role, acting_user=organizer)
            for handle in sorted(ballot.former[g["key"]]):  # members while they vote; removed before the close
                deliberation.add_member(group=group, user=users[handle], acting_user=organizer)
        groups[g["key"]] = group
    return groups


def _disputes(
    created: Ballot,
    ballot: tally.Ballot,
    users: dict[str, "User"],
    organizer: "User",
    groups: dict[str, WorkingGroup],
    components: dict[str, Component],
    criteria: dict[str, Criterion],
    choices: dict[str, Choice],
) -> None:
    """Raised by their member (by the organizer when the file names none, or someone outside the groups)."""
    objects: dict[str, Mapping[str, Any]] = {
        "voter": users,
        "group": groups,
        "choice": choices,
        "component": components,
        "criterion": criteria,
    }
    for i, d in enumerate(ballot.disputes):
        selection = {s: objects[s][key] for s, key in d.selection.items() if key is not None}
        raised_by = users[d.raised_by] if d.raised_by in ballot.handles else organizer
        with _blame(f"disputes[{i}]"):
            dispute = votes.raise_dispute(ballot=created, raised_by=raised_by, reason=d.reason, **selection)
            if d.status != "open":
                votes.resolve_dispute(dispute=dispute, status=d.status, resolution=d.resolution, acting_user=organizer)


def _conflicts(
    created: Ballot, ballot: tally.Ballot, users: dict[str, "User"], components: dict[str, Component]
) -> None:
    """Declared by their member, while voting; withdrawn again by them if the file says so (before the close)."""
    for i, c in enumerate(ballot.conflicts):
        with _blame(f"conflicts[{i}]"):
            member = users[c.member]
            component = components[c.component] if c.component is not None else None
            declaration = votes.declare_conflict(
                ballot=created, member=member, component=component, statement=c.statement
            )
            if c.withdrawn_at is not None:
                reason = f"Withdrawn on {c.withdrawn_at.isoformat()}, before the ballot was imported."
                votes.withdraw_conflict(declaration=declaration, acting_user=member, reason=reason)


@contextmanager
def _blame(where: str | None, *, file: str = formats.BALLOT_FILE, line: int | None = None) -> Iterator[None]:
    """A service's refusal, as a problem of the file at the place it came from."""
    try:
        yield
    except (ValidationError, PermissionDenied) as exc:
        if isinstance(exc, ValidationError) and hasattr(exc, "error_dict"):
            message = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in exc.message_dict.items())
        elif isinstance(exc, ValidationError):
            message = " ".join(exc.messages)
        else:
            message = str(exc)
        raise BundleError(file, line, f"{where}: {message}" if where else message) from exc
