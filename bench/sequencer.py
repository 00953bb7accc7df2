"""Votes per second on one ballot, the audit log recorded inline and through the sequencer's queue, as ratios.

    python bench/sequencer.py                      # 16 casting threads, 8 s per mode
    python bench/sequencer.py --threads 32 --seconds 10 --processes 2

Each mode casts through `votes.services.cast_vote` (random members, random cells of the bench's
10,000-vote ballot, `bench/fixture.py`) from `--processes` processes of `--threads` threads each,
for `--seconds`: inline (`AUDIT_QUEUE` off: each vote holds the ballot's lock until its commit is
flushed), queued (the ballot's lock shared, the cell's exclusive; `manage.py sequence_log`
running). The baseline
is the same threads committing one trivial row each. It reports votes/s, the ratio to the
baseline and to inline, and how long after the last vote the sequencer had placed every one.
Needs PostgreSQL (`BENCH_DATABASE_URL`, default plenary_bench; built afresh unless --reuse).
"""

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"


def cast_for(mode: str, seconds: float, threads: int, seed: int, ballot_id: int) -> int:
    """In this process: `threads` threads casting (or inserting, mode "baseline") for `seconds`; how many."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from bench import fixture
    from votes import services
    from votes.models import Ballot

    settings.AUDIT_QUEUE = mode != "inline"
    ballot = Ballot.objects.select_related("definition", "version").get(pk=ballot_id)
    User = get_user_model()
    voters = list(User.objects.filter(username__in=fixture.casters_of(ballot)))
    components = list(ballot.version.components.leaves())
    criteria = list(ballot.criteria.all())
    choices = [c for c in ballot.choices.all() if not c.requires_grant and not c.requires_rationale]
    assert ballot.audit_stream
    counts = [0] * threads
    stop_at = time.monotonic() + seconds

    def work(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        try:
            while time.monotonic() < stop_at:
                if mode == "baseline":
                    with connection.cursor() as cursor:
                        cursor.execute("INSERT INTO bench_trivial (n) VALUES (%s)", [n])
                else:
                    services.cast_vote(
                        ballot=ballot,
                        voter=rng.choice(voters),
                        component=rng.choice(components),
                        criterion=rng.choice(criteria),
                        choice=rng.choice(choices),
                    )
                counts[n] += 1
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts)


def run_mode(mode: str, args) -> float:
    command = [
        sys.executable,
        __file__,
        "--child",
        mode,
        "--seconds",
        str(args.seconds),
        "--threads",
        str(args.threads),
    ]
    command += ["--ballot", str(args.ballot)]
    children = [
        subprocess.Popen([*command, "--seed", str(n)], stdout=subprocess.PIPE, text=True) for n in range(args.processes)
    ]
    total = sum(int(child.communicate()[0].strip().splitlines()[-1]) for child in children)
    return total / args.seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--reuse", action="store_true")
    parser.add_argument("--json")
    parser.add_argument("--child")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ballot", type=int, default=0)
    args = parser.parse_args()
    if args.child:
        print(cast_for(args.child, args.seconds, args.threads, args.seed, args.ballot))
        return 0

    import django

    from bench.run import prepare_database
    from bench.settings import DEFAULT_DATABASE_URL

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    prepare_database(url, fresh=not args.reuse)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from audit.models import log_position
    from bench import fixture

    call_command("migrate", verbosity=0)
    ballot = fixture.find(10_000) or fixture.build(10_000, log=lambda m: None).ballot
    args.ballot = ballot.pk
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_trivial (id bigserial PRIMARY KEY, n int)")
    report: dict = {"threads": args.threads, "processes": args.processes, "seconds": args.seconds}
    report["baseline"] = run_mode("baseline", args)
    print("baseline", report["baseline"], flush=True)
    report["inline"] = run_mode("inline", args)
    print("inline", report["inline"], flush=True)
    for mode in ("queued",):
        env = os.environ | {"AUDIT_QUEUE": "true"}
        sequencer = subprocess.Popen(
            [sys.executable, "manage.py", "sequence_log"], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
        )
        try:
            assert sequencer.stdout is not None and "running" in sequencer.stdout.readline()
            report[mode] = run_mode(mode, args)
            print(mode, report[mode], flush=True)
            waited = time.monotonic()
            while log_position(ballot.audit_stream)[1]:
                time.sleep(0.005)
            report[f"{mode}_placed_after_s"] = round(time.monotonic() - waited, 3)
        finally:
            sequencer.terminate()
            sequencer.communicate(timeout=30)
    for mode in ("inline", "queued"):
        report[f"{mode}_to_baseline"] = round(report[mode] / report["baseline"], 2)
    report["queued_to_inline"] = round(report["queued"] / report["inline"], 2)
    report = {
        k: round(v, 1) if isinstance(v, float) and not k.endswith(("_s", "baseline")) else v for k, v in report.items()
    }
    print(json.dumps(report, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
