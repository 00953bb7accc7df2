"""What the bench runs in a process of its own, so that its time and peak memory are its alone.

    python -m bench.child export BALLOT_ID OUT.zip   # the tally bundle, as the download writes it
    python -m bench.child export-computing BALLOT_ID OUT.zip   # the same, computing the outcomes afresh
    python -m bench.child copy BALLOT_ID OUT.csv     # the baseline: COPY of the same votes, as CSV
    python -m bench.child copy-all BALLOT_ID OUT     # COPY of the votes and of the ballot's audit events

Each prints {"seconds": …} for the work itself, Django's start-up left out; the bench reads the
process's peak memory (max RSS) from the operating system when it ends.
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

VOTES_CSV = """
    SELECT u.username, g.key, c.key, k.key, ch.key, ch.value, v.cast_at, v.rationale,
           EXISTS (
               SELECT 1 FROM votes_dispute d
               WHERE d.ballot_id = v.ballot_id AND d.status IN ('open', 'upheld')
                 AND (d.voter_id IS NULL OR d.voter_id = v.voter_id)
                 AND (d.group_id IS NULL OR d.group_id = v.group_id)
                 AND (d.choice_id IS NULL OR d.choice_id = v.choice_id)
                 AND (d.component_id IS NULL OR d.component_id = v.component_id)
                 AND (d.criterion_id IS NULL OR d.criterion_id = v.criterion_id)
           ) AS disputed
    FROM votes_vote v
    JOIN auth_user u ON u.id = v.voter_id
    JOIN deliberation_workinggroup g ON g.id = v.group_id
    JOIN deliberation_component c ON c.id = v.component_id
    JOIN votes_criterion k ON k.id = v.criterion_id
    JOIN votes_choice ch ON ch.id = v.choice_id
    WHERE v.ballot_id = {ballot}
    ORDER BY c.key COLLATE "C", k.key COLLATE "C", u.username COLLATE "C"
"""
AUDIT_JSON = """
    SELECT stream, seq, at, actor_handle, action, subject_type, subject_id, payload, prev_hash, hash
    FROM audit_auditevent WHERE stream = {stream} ORDER BY seq
"""


def copy(query: str, out) -> None:
    from django.db import connection

    connection.ensure_connection()
    with connection.connection.cursor() as cursor, cursor.copy(f"COPY ({query}) TO STDOUT WITH CSV HEADER") as rows:
        for chunk in rows:
            out.write(chunk)


def main(what: str, ballot_id: str, out: str) -> dict:
    import django

    django.setup()
    ballot = int(ballot_id)
    started = time.perf_counter()
    if what in ("export", "export-computing"):
        from analysis import bundles
        from analysis.models import OutcomeRun
        from votes.models import Ballot

        if what == "export-computing":  # as if no run had read this state yet: the outcomes are computed
            OutcomeRun.objects.latest_for = lambda ballot: None
        ballot = Ballot.objects.get(pk=ballot)
        started = time.perf_counter()
        bundles.export_bundle(ballot, out)
    elif what == "copy":
        with open(out, "wb") as file:
            copy(VOTES_CSV.format(ballot=ballot), file)
    elif what == "copy-all":
        from django.db import connection
        from psycopg import sql

        from votes.models import Ballot

        stream = Ballot.objects.select_related("definition").get(pk=ballot).audit_stream
        connection.ensure_connection()
        quoted = sql.Literal(stream).as_string(connection.connection)  # COPY takes no parameters
        started = time.perf_counter()
        with open(f"{out}.votes.csv", "wb") as votes, open(f"{out}.audit.csv", "wb") as audit:
            copy(VOTES_CSV.format(ballot=ballot), votes)
            copy(AUDIT_JSON.format(ballot=ballot, stream=quoted), audit)
    else:
        raise SystemExit(f"unknown: {what}")
    return {"seconds": round(time.perf_counter() - started, 3)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:4])))
