"""The bench's ballot: N votes on PostgreSQL, built in bulk, with the audit log that replays to them.

The definition, version, components, groups, ballot, grant and disputes go through the services,
as in the app. The N votes and their audit events are generated in Python (numpy for the choices,
the hash chain computed event by event with `audit.chain`) and written with COPY: a vote cast
through the web takes a few milliseconds, so a million of them would take hours. The audit rows
are exactly what `cast_vote` records (`vote.cast`, `vote.changed`, `vote.cast_on_behalf`, with the
same payload), so export, replay and verify read what they would read in production. Members
join in bulk: the definition's stream has no `membership.joined` events, which nothing measured
reads.

Shape: 50 leaf components in four categories (plus three aggregates) × 4 criteria = 200 cells,
and N / 200 voters in four working groups, each voting on every cell. Data Commons holds the
restricted choice "Not necessary" (−1) on Data components and uses it on about a third of them,
mostly without a rationale; 5 % of the votes were changed once; 0.2 % were entered by an
organizer on a member's behalf; four disputes (two standing) cover a few percent of the votes.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from audit.models import AuditEvent, head
from deliberation import services as deliberation
from deliberation.models import Component, Definition, Membership
from plenary_tally.chain import canonical_json
from plenary_tally.vocabulary import Action
from votes import services as votes
from votes.models import Ballot

FIXTURE = "bench-fixture/1"  # bump when the shape changes, so a kept database is rebuilt
SEED = 2024
CATEGORIES = (("Code", 13), ("Data", 13), ("Model", 12), ("Documentation", 12))  # 50 leaves
CRITERIA = [("use", "Use"), ("study", "Study"), ("modify", "Modify"), ("share", "Share")]
CELLS = sum(n for _, n in CATEGORIES) * len(CRITERIA)
CHOICES = [
    {"key": "required", "label": "Required", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
]
REQUIRED, ABSTAIN, NOT_NECESSARY = range(3)
GROUPS = [
    ("data-commons", "Data Commons", {"Data": 0.3, "Code": -0.1}),
    ("inference", "Inference", {"Code": 0.1, "Data": -0.1}),
    ("language", "Language Models", {"Model": 0.05}),
    ("vision", "Vision", {"Documentation": 0.1}),
]
CASTERS = 200  # members with no vote yet, who cast the votes of the HTTP bench
CHANGED = 0.05  # share of votes changed once after they were first cast
ON_BEHALF = 0.002  # share of votes an organizer entered for a member
NOT_NECESSARY_RATE = 0.3  # how often Data Commons uses its veto power on a Data component
VETO_REASONS = [
    "Information about the data is not the data: only the data sets let anyone study the model.",
    "Public benchmarks are published already; shipping them again adds no freedom.",
]
RATIONALES = [
    "Needed to reproduce the results.",
    '=Without it, nobody can "study" the model, see §3',  # a cell a spreadsheet would run as a formula
    "Depends on the licence,\nsee the thread of 4 May.",
]
PASSWORD = "bench-only-password"


@dataclass(frozen=True)
class Built:
    ballot: Ballot
    votes: int
    events: int
    voters: int
    casters: list[str]
    seconds: float


def voters_for(n_votes: int) -> int:
    return max(3, math.ceil(n_votes / CELLS))


def size_of(ballot: Ballot) -> int:
    return int(ballot.definition.slug.split("-")[1])


def _slugs(n_votes: int) -> list[str]:
    """The definitions of earlier builds of this size, newest first (a ballot voted on by the bench is spent)."""
    pattern = rf"^bench-{n_votes}(-[0-9]+)?$"
    slugs = Definition.objects.filter(slug__regex=pattern).values_list("slug", flat=True)
    return sorted(slugs, key=lambda slug: int(slug.split("-")[2]) if slug.count("-") == 2 else 1, reverse=True)


def find(n_votes: int) -> Ballot | None:
    """The ballot of an earlier build of this size and fixture version, if it still holds exactly its votes."""
    for slug in _slugs(n_votes):
        ballot = (
            Ballot.objects.select_related("definition", "version")
            .filter(definition__slug=slug, key="components", description=FIXTURE)
            .first()
        )
        if ballot is not None and ballot.votes.count() == voters_for(n_votes) * CELLS:
            return ballot
    return None


def casters_of(ballot: Ballot) -> list[str]:
    return sorted(
        Membership.objects.current()
        .filter(group__in=ballot.groups.all(), user__username__startswith="caster-")
        .values_list("user__username", flat=True)
    )


def build(n_votes: int, log=print) -> Built:
    """Build the ballot of `n_votes` votes in one transaction (nothing is left of a build that fails)."""
    started = timezone.now()
    with transaction.atomic():
        ballot, n_events, n_voters, caster_names = _build(n_votes, log)
    with connection.cursor() as cursor:
        for table in ("votes_vote", "audit_auditevent", "auth_user", "deliberation_membership"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    seconds = (timezone.now() - started).total_seconds()
    return Built(ballot, voters_for(n_votes) * CELLS, n_events, n_voters, caster_names, seconds)


def _build(n_votes: int, log) -> tuple[Ballot, int, int, list[str]]:
    User = get_user_model()
    n_voters = voters_for(n_votes)
    organizer, _ = User.objects.get_or_create(username="bench-organizer", defaults={"email": "org@bench.invalid"})
    voter_names = [f"member-{i:06d}" for i in range(n_voters)]
    caster_names = [f"caster-{i:04d}" for i in range(CASTERS)]
    users = _users(User, voter_names + caster_names)
    log(f"  {len(users):,} accounts")

    earlier = _slugs(n_votes)
    slug = f"bench-{n_votes}-{len(earlier) + 1}" if earlier else f"bench-{n_votes}"
    definition = deliberation.create_definition(
        slug=slug,
        title=f"Bench definition, {n_votes:,} votes",
        organizers=[organizer],
        acting_user=organizer,
        from_the_command_line=True,
    )
    version = deliberation.start_draft(definition=definition, label="1.0", acting_user=organizer)
    leaves: dict[str, list[Component]] = {}
    for category, count in CATEGORIES:
        leaves[category] = [
            deliberation.add_component(
                version=version,
                fields={
                    "key": f"{category.lower()}-{j:02d}",
                    "title": f"{category} component {j}",
                    "category": category,
                },
                acting_user=organizer,
            )
            for j in range(1, count + 1)
        ]
    aggregates = [
        ("all-data", "All data", "Data", "mean", leaves["Data"]),
        ("all-code", "All code", "Code", "sum", leaves["Code"]),
        ("release", "A release", "Model", "mean", leaves["Model"][:4] + leaves["Documentation"][:2]),
    ]
    for key, title, category, rule, parts in aggregates:
        deliberation.add_component(
            version=version,
            fields={"key": key, "title": title, "category": category, "aggregate_rule": rule},
            parts=parts,
            acting_user=organizer,
        )
    version = deliberation.publish_version(version=version, release_notes="The bench's release.", acting_user=organizer)

    groups = [
        deliberation.create_group(definition=definition, key=key, name=name, acting_user=organizer)
        for key, name, _ in GROUPS
    ]
    voter_group = [i % len(groups) for i in range(n_voters)]
    memberships = [
        Membership(group=groups[voter_group[i]], user=users[name], role="chair" if i < len(groups) else "member")
        for i, name in enumerate(voter_names)
    ] + [Membership(group=groups[i % len(groups)], user=users[name]) for i, name in enumerate(caster_names)]
    Membership.objects.bulk_create(memberships, batch_size=5000)

    ballot = votes.create_ballot(
        version=version,
        key="components",
        title=f"Component vote, {n_votes:,} votes",
        description=FIXTURE,
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=organizer,
    )
    choices = {c.key: c for c in ballot.choices.all()}
    grant = votes.grant_veto(
        ballot=ballot,
        choice=choices["not-necessary"],
        group=groups[0],
        category="Data",
        reason="Charter of the Data Commons group, §3.",
        acting_user=organizer,
    )
    votes.open_ballot(ballot=ballot, acting_user=organizer)

    cells = [(c, k) for category, _ in CATEGORIES for c in leaves[category] for k in ballot.criteria.all()]
    plan = _plan(n_voters, cells, voter_group)
    log(f"  {plan.choice.size:,} votes planned")
    n_events = _copy_votes_and_events(
        ballot, plan, cells, [users[n] for n in voter_names], groups, choices, grant, organizer
    )
    log(f"  {plan.choice.size:,} votes and {n_events:,} audit events written")
    _disputes(ballot, groups, choices, leaves, users, voter_names, organizer)
    ballot.refresh_from_db()
    return ballot, n_events, n_voters, caster_names


def _users(User, names: list[str]) -> dict:
    """The accounts, made in bulk where missing; one usable password for all (hashed once)."""
    existing = {u.username: u for u in User.objects.filter(username__in=names)}
    missing = [n for n in names if n not in existing]
    if missing:
        template = User(username="x")
        template.set_password(PASSWORD)
        User.objects.bulk_create(
            [User(username=n, email=f"{n}@bench.invalid", password=template.password) for n in missing],
            batch_size=5000,
        )
        existing = {u.username: u for u in User.objects.filter(username__in=names)}
    return existing


@dataclass(frozen=True)
class _Plan:
    choice: np.ndarray  # (voters, cells): the final choice
    first: np.ndarray  # (voters, cells): the first choice of a changed vote, -1 where it never changed
    rationale: np.ndarray  # (voters, cells): index into the reasons + 1, 0 for none
    on_behalf: np.ndarray  # (voters, cells) bool
    order: np.ndarray  # the order in which the first casts happened, as flat indices


def _plan(n_voters: int, cells: list, voter_group: list[int]) -> _Plan:
    rng = np.random.default_rng(SEED)
    n_cells = len(cells)
    categories = np.array([c.category for c, _ in cells])
    base = rng.uniform(0.15, 0.95, n_cells)
    groups = np.array(voter_group)
    lean = np.zeros((len(GROUPS), n_cells))
    for g, (_, _, leanings) in enumerate(GROUPS):
        for category, shift in leanings.items():
            lean[g, categories == category] = shift
    p_required = np.clip(base[None, :] + lean[groups] + rng.normal(0, 0.05, (n_voters, 1)), 0.02, 0.98)
    choice = np.where(rng.random((n_voters, n_cells)) < p_required, REQUIRED, ABSTAIN)
    may_veto = (groups[:, None] == 0) & (categories[None, :] == "Data")
    vetoes = may_veto & (rng.random((n_voters, n_cells)) < NOT_NECESSARY_RATE)
    choice[vetoes] = NOT_NECESSARY

    rationale = np.zeros((n_voters, n_cells), dtype=np.int64)
    explained_veto = vetoes & (rng.random((n_voters, n_cells)) < 0.35)
    rationale[explained_veto] = 1 + rng.integers(0, len(VETO_REASONS), explained_veto.sum())
    explained = ~vetoes & (rng.random((n_voters, n_cells)) < 0.03)
    rationale[explained] = 1 + len(VETO_REASONS) + rng.integers(0, len(RATIONALES), explained.sum())

    changed = rng.random((n_voters, n_cells)) < CHANGED
    first = np.where(changed, np.where(choice == REQUIRED, ABSTAIN, REQUIRED), -1)
    on_behalf = ~changed & (rng.random((n_voters, n_cells)) < ON_BEHALF)
    order = rng.permutation(n_voters * n_cells)
    return _Plan(choice, first, rationale, on_behalf, order)


def _copy_votes_and_events(ballot, plan: _Plan, cells, voters, groups, choices, grant, organizer) -> int:
    """COPY the audit events, hash-chained, then the votes they leave, in one transaction; return the events.

    Both are streamed into COPY as they are generated, so memory stays flat at any size.
    """
    reasons = ["", *VETO_REASONS, *RATIONALES]
    by_index = [choices[c["key"]] for c in CHOICES]
    n_cells = plan.choice.shape[1]
    stream = ballot.audit_stream
    stream_json = json.dumps(stream, ensure_ascii=False)
    first_flat, choice_flat = plan.first.ravel(), plan.choice.ravel()
    rationale_flat, behalf_flat = plan.rationale.ravel(), plan.on_behalf.ravel()
    changed = np.flatnonzero(first_flat >= 0)
    changes = changed[np.random.default_rng(SEED + 1).permutation(changed.size)]
    sequence = np.concatenate([plan.order, changes])
    final_event = np.empty(choice_flat.size, dtype=np.int64)  # the event that leaves each vote as it stands
    final_event[plan.order] = np.arange(plan.order.size)
    final_event[changes] = plan.order.size + np.arange(changes.size)

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('votes_vote', 'id'))")
        first_id = cursor.fetchone()[0]
        cursor.execute("SELECT setval(pg_get_serial_sequence('votes_vote', 'id'), %s)", [first_id + choice_flat.size])
        seq0 = AuditEvent.objects.filter(stream=stream).order_by("-seq").values_list("seq", flat=True).first()
        prev = head(stream)
        start = timezone.now().astimezone(UTC) - timedelta(days=14)
        step = timedelta(days=13) / sequence.size

        def at(k: int) -> datetime:
            return start + step * int(k)

        cursor.execute("SET LOCAL session_replication_role = replica")  # skip the per-row FK triggers of a bulk load
        with cursor.copy(
            "COPY audit_auditevent (stream, seq, at, actor_id, actor_handle, action, subject_type, subject_id,"
            " payload, prev_hash, hash) FROM STDIN"
        ) as copy:
            for k, flat in enumerate(sequence.tolist()):
                v, c = divmod(flat, n_cells)
                component, criterion = cells[c]
                voter, group = voters[v], groups[v % len(groups)]
                is_change = k >= plan.order.size
                was_changed = first_flat[flat] >= 0
                if was_changed and not is_change:  # the first cast of a vote changed later
                    choice, rationale = by_index[first_flat[flat]], ""
                else:
                    choice, rationale = by_index[choice_flat[flat]], reasons[rationale_flat[flat]]
                actor = organizer if behalf_flat[flat] else voter
                when = at(k).isoformat()
                previous = {"choice": by_index[first_flat[flat]].key, "rationale": ""} if is_change else None
                payload = {
                    "voter": voter.username,
                    "group": group.key,
                    "component": component.key,
                    "criterion": criterion.key,
                    "choice": choice.key,
                    "value": choice.value,
                    "rationale": rationale,
                    "grant": grant.pk if choice.requires_grant else None,
                    "cast_by": actor.username,
                    "cast_at": when,
                    "previous": previous,
                }
                if actor is organizer:
                    action = Action.VOTE_CAST_ON_BEHALF
                else:
                    action = Action.VOTE_CHANGED if is_change else Action.VOTE_CAST
                payload_json = canonical_json(payload)
                subject_id = str(first_id + flat)
                # canonical_json of the whole event, written out in its sorted key order (checked below)
                text = (
                    f'{{"action":"{action}","actor":"{actor.username}","at":"{when}","payload":{payload_json},'
                    f'"prev_hash":"{prev}","seq":{seq0 + k + 1},"stream":{stream_json},'
                    f'"subject":"votes.vote:{subject_id}"}}'
                )
                digest = hashlib.sha256(text.encode()).hexdigest()
                row = (stream, seq0 + k + 1, when, actor.pk, actor.username, action, "votes.vote", subject_id,
                       payload_json, prev, digest)  # fmt: skip
                if k == 0:
                    _check_hash(row)
                copy.write_row(row)
                prev = digest
        with cursor.copy(
            "COPY votes_vote (id, ballot_id, voter_id, group_id, component_id, criterion_id, choice_id, grant_id,"
            " rationale, cast_at, cast_by_id, carried, outdated) FROM STDIN"
        ) as copy:
            for flat in range(choice_flat.size):
                v, c = divmod(flat, n_cells)
                component, criterion = cells[c]
                choice = by_index[choice_flat[flat]]
                copy.write_row(
                    (
                        first_id + flat, ballot.pk, voters[v].pk, groups[v % len(groups)].pk, component.pk,
                        criterion.pk, choice.pk, grant.pk if choice.requires_grant else None,
                        reasons[rationale_flat[flat]], at(final_event[flat]).isoformat(),
                        organizer.pk if behalf_flat[flat] else voters[v].pk, False, False,
                    )
                )  # fmt: skip
        cursor.execute("SET LOCAL session_replication_role = origin")
    return int(sequence.size)


def _check_hash(row: tuple) -> None:
    """The hand-written canonical form must be the one `audit.chain` hashes."""
    stream, seq, at, _, actor, action, subject_type, subject_id, payload, prev, digest = row
    event = {
        "stream": stream, "seq": seq, "at": at, "actor": actor, "action": action,
        "subject": f"{subject_type}:{subject_id}", "payload": json.loads(payload), "prev_hash": prev,
    }  # fmt: skip
    assert hashlib.sha256(canonical_json(event).encode()).hexdigest() == digest


def _disputes(ballot, groups, choices, leaves, users, voter_names, organizer) -> None:
    """Four disputes through the services: two standing (one open, one upheld), one dismissed, one open on few votes."""
    raiser = users[voter_names[3]]  # chair of the fourth group
    votes.raise_dispute(
        ballot=ballot,
        raised_by=raiser,
        reason="Data Commons used its veto power on data components, mostly without saying why.",
        group=groups[0],
        choice=choices["not-necessary"],
    )
    upheld = votes.raise_dispute(
        ballot=ballot, raised_by=raiser, reason="This account voted twice.", voter=users[voter_names[-1]]
    )
    votes.resolve_dispute(dispute=upheld, status="upheld", resolution="Confirmed by the group.", acting_user=organizer)
    dismissed = votes.raise_dispute(
        ballot=ballot,
        raised_by=raiser,
        reason="The component was renamed while voting ran.",
        component=leaves["Code"][2],
        criterion=ballot.criteria.get(key="use"),
    )
    votes.resolve_dispute(
        dispute=dismissed, status="dismissed", resolution="The text did not change.", acting_user=organizer
    )
    votes.raise_dispute(
        ballot=ballot,
        raised_by=raiser,
        reason="Cast before the group's meeting on this component.",
        group=groups[1],
        component=leaves["Model"][0],
    )
