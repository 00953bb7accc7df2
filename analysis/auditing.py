"""`verify_audit`: the stored audit log and what it records, checked against each other.

1. Every stream is one unbroken hash chain (`plenary_tally.chain`).
2. Every definition and every ballot has its stream, and every stream belongs to one of them: an
   emptied audit table, a removed stream, a slug or key changed in the database or a deleted
   record is named, never reported as a shorter intact log.
3. Each ballot's stream, replayed exactly as `plenary-tally --verify` replays a bundle's
   `audit.jsonl` (`plenary_tally.verification.Replay`), gives its stored rules, status, roster,
   grants, disputes and declared conflicts of interest, and exactly its stored votes: a vote
   changed, added or removed in the database is named by its cell.

Everything is read in one snapshot, so votes cast meanwhile are not mistaken for tampering, and
streamed: memory holds one ballot's replayed votes, never the log.
"""

from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from itertools import groupby
from operator import itemgetter

from audit.models import AuditEvent
from deliberation.models import Definition
from plenary_tally import BundleError, chain
from plenary_tally.ballot import ballot_from_data
from plenary_tally.files import parse_time
from plenary_tally.verification import Replay
from plenary_tally.vocabulary import definition_stream
from plenary_tally.votes import Vote
from votes.models import Ballot

from . import bundles, services

SHOWN = 10  # problems named in the message; the count says how many more there are


class RecordBroken(Exception):
    """The first definition, ballot or stream that does not hold, and why."""


@dataclass
class Checked:
    events: int = 0
    votes: int = 0
    ballots: int = 0
    heads: dict[str, str] = field(default_factory=dict)


class StoredReplay(Replay):
    """The replay of --verify, naming what it finds as the database holds it."""

    log = "the audit stream"
    stored = "the database"

    def at(self, line: int) -> str:
        return f"event #{line}"


def verify_records(*, stream: str | None = None) -> Checked:
    """Check every stream (or the one named) and the definitions and ballots it records; raise RecordBroken."""
    checked = Checked()
    queues = [stream] if stream else [b.audit_stream for b in Ballot.objects.select_related("definition")]
    with services.one_snapshot(settle=queues):  # every vote in the snapshot has its event in the log
        owners = _owners()
        ballots = {b.audit_stream: b for b in Ballot.objects.select_related("definition", "version")}
        events = AuditEvent.objects.in_chain_order()
        if stream:
            events = events.filter(stream=stream)
        with closing(_counted(events.canonical(), checked)) as rows:  # its cursor closes inside the snapshot
            for name, group in groupby(rows, key=itemgetter("stream")):
                if name in ballots:
                    checked.heads[name] = _check_ballot(ballots[name], group, checked)
                else:
                    broken, heads = chain.verify(group)
                    if broken is not None:
                        raise RecordBroken(f"Audit chain broken at {broken}")
                    checked.heads |= heads
        expected = {stream: owners[stream]} if stream in owners else {} if stream else owners
        _check_owners(expected, owners, checked.heads)
    return checked


def _owners() -> dict[str, str]:
    """Each stream the site's records have, and the record that has it, as a person would name it."""
    owners = {
        definition_stream(slug): f"definition {slug}" for slug in Definition.objects.values_list("slug", flat=True)
    }
    for ballot in Ballot.objects.select_related("definition").only("key", "definition__slug"):
        owners[ballot.audit_stream] = f"ballot {ballot.definition.slug}/{ballot.key}"
    return owners


def _counted(events: Iterator[dict], checked: Checked) -> Generator[dict, None, None]:
    for event in events:
        checked.events += 1
        yield event


def _check_owners(expected: dict[str, str], owners: dict[str, str], heads: dict[str, str]) -> None:
    missing = [f"{owner} has no audit stream ({name})" for name, owner in expected.items() if name not in heads]
    orphans = sorted(name for name in heads if name not in owners)
    if orphans:
        missing.append(
            f"the log holds {'a stream' if len(orphans) == 1 else 'streams'} no definition or ballot has:"
            f" {', '.join(orphans[:SHOWN])}{' …' if len(orphans) > SHOWN else ''}"
        )
    if missing:
        raise RecordBroken(
            "Audit log incomplete: "
            + "; ".join(missing[:SHOWN])
            + (f"; and {len(missing) - SHOWN} more" if len(missing) > SHOWN else "")
            + ". Its events were removed, or a slug or key was changed or a record deleted in the database."
        )


def _check_ballot(ballot: Ballot, events: Iterator[dict], checked: Checked) -> str:
    """Replay the ballot's stream, compare its stored state and votes; return the stream's head."""
    where = f"ballot {ballot.definition.slug}/{ballot.key}"
    try:
        replay = StoredReplay(ballot_from_data(bundles.ballot_json(ballot)))
    except BundleError as exc:
        raise RecordBroken(
            f"{where}: its stored rules are not a ballot the log can be checked against: {exc}"
        ) from None
    try:
        broken = replay.follow(events)
    except BundleError as exc:
        raise RecordBroken(f"{where}: {replay.log}, {replay.at(exc.line or replay.line)}: {exc.message}") from None
    if broken is not None:
        raise RecordBroken(f"Audit chain broken at {broken}")
    problems = [f"its stored {p.message}" for p in replay.against_ballot()]
    found = len(problems)
    for n, row in enumerate(bundles.vote_rows(ballot).iterator(chunk_size=bundles.CHUNK), 1):
        voter, group, component, criterion, choice, value, cast_at, rationale, disputed, carried, outdated = row
        vote = Vote(n, voter, group, component, criterion, choice, value, parse_time(cast_at), rationale, disputed,
                    carried=carried, outdated=outdated)  # fmt: skip
        checked.votes += 1
        for problem in replay.against_row(vote):
            found += 1
            if len(problems) < SHOWN:
                problems.append(f"stored vote of {problem.message}")
    for problem in replay.missing_rows():
        found += 1
        if len(problems) < SHOWN:
            problems.append(problem.message)
    if found:
        more = f"; and {found - len(problems)} more" if found > len(problems) else ""
        raise RecordBroken(
            f"{where} differs from what its audit stream records: {'; '.join(problems)}{more}."
            " Its rows were changed in the database behind the audit log."
        )
    checked.ballots += 1
    return replay.head
