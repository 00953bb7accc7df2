"""Plenary's benchmark: a ballot of N votes on PostgreSQL, each figure measured beside its baseline.

    make bench                                   # N = 10,000, 100,000 and 1,000,000 (about 20 minutes)
    python bench/run.py --quick                  # N = 10,000 and 100,000
    python bench/run.py --votes 1000000 --json var/bench.json
    python bench/run.py --only casting           # the casting figures alone, at N = 10,000 (a few minutes)

Needs PostgreSQL answering as in CI (`BENCH_DATABASE_URL`, default
postgres://postgres@127.0.0.1:5432/plenary_bench; the database is dropped and created afresh
unless --reuse). Uses Redis on 127.0.0.1:6379 as the broker when it answers (nothing drains the
recomputes that votes queue), and starts gunicorn on a free port for the HTTP figures; stops it
when done. For the casting figures it also starts the audit log's sequencer (`manage.py
sequence_log`) when votes are queued (`AUDIT_QUEUE`, on by default with PostgreSQL), and stops it
after. docs/performance.md explains each figure and holds the table of a full run.
"""

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"

import psycopg  # noqa: E402

from bench.settings import DEFAULT_DATABASE_URL  # noqa: E402

PYTHON = sys.executable
SIZES = (10_000, 100_000, 1_000_000)
QUICK = (10_000, 100_000)
CLIENTS = 50
POLIS_PEAK = 65  # votes per second: the busiest Pol.is conversation's peak
RATES = (POLIS_PEAK, 150)  # paced loads: the peak, and more than twice it
WORKERS = int(os.environ.get("BENCH_WORKERS", 2 * (os.cpu_count() or 1) + 1))  # gunicorn's rule for sync workers
REDIS = ("127.0.0.1", 6379)
BENCH_REDIS_DB = 13
FIGURES = ["recompute", "pages", "export", "casting"]
TARGETS = {
    "recompute_ratio": 3.0,
    "cast_p95_ms": 100.0,
    "cast_throughput_share": 0.5,
    "page_p95_ms": 150.0,
    "export_ratio": 2.0,
    "export_rss_mb": 300.0,
    "verify_seconds": 60.0,
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def median_time(function, runs: int, warm: int = 1) -> tuple[float, list[float]]:
    for _ in range(warm):
        function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


# The database --------------------------------------------------------------------------------


def prepare_database(url: str, fresh: bool) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    maintenance = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(maintenance, autocommit=True) as connection:
        if fresh:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            connection.execute(f'CREATE DATABASE "{name}"')
        try:  # on a shared machine, a query gone wrong must not fill the disk with its sort files
            connection.execute(f"ALTER DATABASE \"{name}\" SET temp_file_limit = '4GB'")
        except psycopg.errors.InsufficientPrivilege:
            log("  (not a superuser: no temp_file_limit on the bench database)")


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def purge_bench_queue() -> None:
    """The recomputes queued by the votes cast: nothing drains the bench's queue, so empty it."""
    if not redis_answers():
        return
    with socket.create_connection(REDIS, timeout=2) as connection:
        queue = os.environ.get("BENCH_QUEUE", "plenary-bench")  # as bench/settings.py names it
        connection.sendall(f"SELECT {BENCH_REDIS_DB}\r\nDEL {queue}\r\n".encode())
        connection.recv(64)


# gunicorn ------------------------------------------------------------------------------------


class Server:
    """gunicorn serving the bench settings on a free port of the loopback, sync workers (2 × cores + 1)."""

    def __init__(self, env: dict):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.env = env
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        command = [
            str(Path(PYTHON).parent / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(WORKERS), "--worker-class", "sync", "--backlog", "2048", "--timeout", "120",
            "--log-level", "warning",
        ]  # fmt: skip
        env = self.env | {"BENCH_STATEMENT_TIMEOUT": "120s"}  # a request that runs away fails instead
        self.process = subprocess.Popen(command, cwd=ROOT, env=env)
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5).read()
                return self
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer")

    def __exit__(self, *exc) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Sequencer:
    """`manage.py sequence_log` with the bench's settings, beside gunicorn: started once it runs, stopped by
    SIGTERM (its clean stop), which it must answer by exiting 0. Its output goes to a file, never a pipe that
    nobody reads (a full pipe would stop it writing, and integrating)."""

    def __init__(self, env: dict, work: Path):
        self.env, self.output_path = env, work / "sequencer.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Sequencer":
        self.output = open(self.output_path, "w")
        command = [PYTHON, "manage.py", "sequence_log"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.output, stderr=subprocess.STDOUT)
        for _ in range(300):
            if "sequencer running" in self.output_path.read_text():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        self._stop()
        raise RuntimeError(f"the sequencer did not start: {self.output_path.read_text()[-2000:]}")

    def cpu_seconds(self) -> float:
        """Its process's CPU so far, user and system (/proc/PID/stat, fields 14 and 15)."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _stop(self) -> int | None:
        """SIGTERM, then its exit code once it has stopped."""
        if self.process is None:
            return None
        self.process.terminate()
        try:
            return self.process.wait(timeout=60)
        finally:
            self.output.close()

    def __exit__(self, exc_type, *exc) -> None:
        code, said = self._stop(), self.output_path.read_text()
        if exc_type is None and (code != 0 or "sequencer stopped" not in said):
            raise RuntimeError(f"the sequencer did not stop cleanly (exit {code}): {said[-2000:]}")


# The figures ---------------------------------------------------------------------------------


def measure_recompute(ballot, runs: int) -> dict:
    from django.db import connection

    from analysis import reading, services
    from plenary_tally import outcomes

    aggregate = (
        "SELECT v.component_id, v.criterion_id, SUM(ch.value) FROM votes_vote v"
        " JOIN votes_choice ch ON ch.id = v.choice_id WHERE v.ballot_id = %s GROUP BY 1, 2"
    )

    def sql_aggregate() -> None:
        with connection.cursor() as cursor:
            cursor.execute(aggregate, [ballot.pk])
            cursor.fetchall()

    spec = services.ballot_spec(ballot)
    votes = reading.read(ballot, spec)
    baseline, baseline_runs = median_time(sql_aggregate, runs)
    recompute, recompute_runs = median_time(lambda: services.compute_run(ballot), runs)
    read, _ = median_time(lambda: reading.read(ballot, spec), runs)
    compute, _ = median_time(lambda: outcomes.compute(spec, votes.cells, votes.voters), runs)
    return {
        "baseline_ms": ms(baseline),
        "baseline_runs_ms": [ms(t) for t in baseline_runs],
        "recompute_ms": ms(recompute),
        "recompute_runs_ms": [ms(t) for t in recompute_runs],
        "ratio": round(recompute / baseline, 2),
        "read_votes_ms": ms(read),
        "compute_ms": ms(compute),
        "cells": len(votes.cells),
        "voters": len(votes.voters),
    }


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def get(port: int, path: str, cookie: str = "") -> tuple[int, int]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Cookie": cookie} if cookie else {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, len(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, 0


def measure_pages(port: int, ballot, session: dict, requests: int) -> dict:
    """Each page, one request after another: p50 and p95 of `requests`, once every worker has served it."""
    from bench import fixture
    from votes import rollcall

    base = f"/d/{ballot.definition.slug}/ballots/{ballot.key}"
    cells = rollcall.cells(ballot, rollcall.components(ballot))
    member = f"member-{fixture.voters_for(fixture.size_of(ballot)) // 2:06d}"
    middle, end = quote(f"{cells[len(cells) // 2].key}/{member}"), quote(f"{cells[-1].key}/~")
    cookie = f"sessionid={session['sessionid']}"
    pages = {
        "results": (f"{base}/results/", ""),
        "roll_call": (f"{base}/roll-call/", ""),
        "roll_call_middle_page": (f"{base}/roll-call/?after={middle}", ""),
        "roll_call_last_page": (f"{base}/roll-call/?before={end}", ""),
        "roll_call_one_voter": (f"{base}/roll-call/?voter={member}", ""),
        "roll_call_one_component": (f"{base}/roll-call/?component=code-03", ""),
        "roll_call_disputed": (f"{base}/roll-call/?flag=disputed", ""),
        "roll_call_undocumented": (f"{base}/roll-call/?flag=undocumented", ""),
        "ballot": (f"{base}/", ""),
        "vote_grid": (f"{base}/vote/", cookie),
        "audit_log": (f"/audit/?stream={ballot.audit_stream}", ""),
    }
    found = {}
    for name, (path, cookie) in pages.items():
        times, sizes = [], set()
        warm = 3 * WORKERS  # every gunicorn worker has served the page before it is timed
        for i in range(requests + warm):
            started = time.perf_counter()
            status, size = get(port, path, cookie)
            elapsed = time.perf_counter() - started
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}")
            sizes.add(size)
            if i >= warm:
                times.append(elapsed)
        found[name] = {
            "path": path,
            "p50_ms": ms(statistics.median(times)),
            "p95_ms": ms(sorted(times)[min(len(times) - 1, round(0.95 * (len(times) - 1)))]),
            "bytes": max(sizes),
        }
    return found


def run_child(command: list[str], stdout=subprocess.PIPE) -> tuple[float, float, str]:
    """Run a command through bench/peak.py; return its wall time, its own peak memory (MB) and its output."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile(suffix=".json") as peak:
        process = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "peak.py"), peak.name, *command], cwd=ROOT, stdout=stdout, stderr=errors
        )
        output = process.stdout.read().decode() if stdout == subprocess.PIPE else ""
        if process.wait() != 0:
            errors.seek(0)
            message = errors.read().decode()[-2000:]
            raise RuntimeError(f"{' '.join(command)[:200]} exited {process.returncode}: {message}{output[-2000:]}")
        measured = json.loads(Path(peak.name).read_text())
    return measured["seconds"], measured["max_rss_kb"] / 1024, output


def measure_export(ballot, runs: int, work: Path) -> dict:
    """The bundle export against COPY of the same votes as CSV (psql), each in a process of its own."""
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    from bench.child import AUDIT_JSON, VOTES_CSV

    def copy(query: str, out: Path) -> tuple[float, float]:
        stream = "'" + ballot.audit_stream.replace("'", "''") + "'"  # a literal: COPY takes no parameters
        sql = " ".join(query.format(ballot=ballot.pk, stream=stream).split())
        with open(out, "wb") as file:
            if shutil.which("psql"):
                elapsed, rss, _ = run_child(
                    ["psql", url, "-X", "-q", "-c", f"COPY ({sql}) TO STDOUT WITH CSV HEADER"], file
                )
                return elapsed, rss
        elapsed, rss, output = run_child([PYTHON, "-m", "bench.child", "copy", str(ballot.pk), str(out)])
        return json.loads(output)["seconds"], rss

    copies, copies_all, exports, rss, copy_rss = [], [], [], [], []
    bundle = work / f"bundle-{ballot.pk}.zip"
    for _ in range(runs):
        seconds, peak = copy(VOTES_CSV, work / "votes.csv")
        copies.append(seconds)
        copy_rss.append(peak)
        audit_seconds, _ = copy(AUDIT_JSON, work / "audit.csv")
        copies_all.append(seconds + audit_seconds)
        _, peak, output = run_child([PYTHON, "-m", "bench.child", "export", str(ballot.pk), str(bundle)])
        exports.append(json.loads(output)["seconds"])
        rss.append(peak)
    _, computing_rss, output = run_child([PYTHON, "-m", "bench.child", "export-computing", str(ballot.pk), str(bundle)])
    computing = json.loads(output)["seconds"]
    baseline, export = statistics.median(copies), statistics.median(exports)
    return {
        "export_computing_outcomes_ms": ms(computing),
        "export_computing_outcomes_rss_mb": round(computing_rss, 1),
        "baseline_copy_ms": ms(baseline),
        "baseline_copy_runs_ms": [ms(t) for t in copies],
        "baseline_copy_client": "psql" if shutil.which("psql") else "psycopg",
        "baseline_copy_rss_mb": round(max(copy_rss), 1),
        "copy_votes_and_audit_ms": ms(statistics.median(copies_all)),
        "export_ms": ms(export),
        "export_runs_ms": [ms(t) for t in exports],
        "ratio": round(export / baseline, 2),
        "ratio_to_votes_and_audit": round(export / statistics.median(copies_all), 2),
        "peak_rss_mb": round(max(rss), 1),
        "bundle_mb": round(bundle.stat().st_size / 1e6, 1),
        "votes_csv_mb": round((work / "votes.csv").stat().st_size / 1e6, 1),
        "bundle": str(bundle),
    }


def measure_verify(bundle: str, runs: int) -> dict:
    times, rss = [], []
    line = ""
    for _ in range(runs):
        elapsed, peak, output = run_child([PYTHON, "-m", "analysis.tally", bundle, "--verify"])
        times.append(elapsed)
        rss.append(peak)
        line = output.strip().splitlines()[-1]  # the summary, after a line per check that held
    if not line.startswith("verified:"):
        raise RuntimeError(f"the bundle did not verify: {line}")
    return {
        "seconds": round(statistics.median(times), 2),
        "runs_seconds": [round(t, 2) for t in times],
        "peak_rss_mb": round(max(rss), 1),
        "output": line,
    }


def sessions_for(ballot, handles: list[str]) -> list[dict]:
    """A signed-in session per member, made as the login view makes them, with a CSRF cookie and token."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils.crypto import get_random_string

    from bench import fixture

    users = get_user_model().objects.filter(username__in=handles).prefetch_related("memberships__group")
    leaves = list(ballot.version.components.leaves().values_list("key", "category"))
    criteria = list(ballot.criteria.values_list("key", flat=True))
    found = []
    for user in users:
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        vetoes = any(m.group.key == fixture.GROUPS[0][0] for m in user.memberships.all())
        components = [key for key, category in leaves if category == "Data"] if vetoes else [k for k, _ in leaves]
        choices = ["required", "abstain", "not-necessary"] if vetoes else ["required", "abstain"]
        found.append(
            {
                "sessionid": store.session_key,
                "csrftoken": get_random_string(32),
                "form": {"component": components, "criterion": criteria, "choice": choices},
            }
        )
    return found


def measure_casting(port: int, ballot, sessions: list[dict], seconds: float, work: Path) -> dict:
    """Votes cast over HTTP by 50 clients against gunicorn, beside a view that inserts one row.

    With votes queued, the sequencer runs beside gunicorn: after each load the bench waits for the queue to
    drain, checks that every vote answered 200 is in the log, and reads each one's lag (`bench/placing.py`)
    and the sequencer's CPU per event placed (its process's, over the load and the drain)."""
    cast_path = f"/d/{ballot.definition.slug}/ballots/{ballot.key}/vote/"
    common = {"host": "127.0.0.1", "port": port, "clients": CLIENTS, "seconds": seconds, "sessions": sessions}
    plans = {
        "trivial_insert": {
            **common,
            "method": "POST",
            "path": "/bench/insert/",
            "ok": [204],
            "form": {"choice": ["a"]},
        },
        "cast": {**common, "method": "POST", "path": cast_path, "headers": {"HX-Request": "true"}, "form": {}},
        **{
            f"cast_at_{rate}_per_second": {
                **common,
                "method": "POST",
                "path": cast_path,
                "headers": {"HX-Request": "true"},
                "form": {},
                "rate": rate,
            }
            for rate in RATES
        },
    }
    from audit.models import log_position, queue_mode
    from bench import placing

    found: dict = {"queued": queue_mode()}
    run_seed = time.time_ns() % 1_000_000_007  # each run walks the cells in its own order, with its own rationales
    with Sequencer(dict(os.environ), work) if found["queued"] else contextlib.nullcontext() as sequencer:
        for i, (name, plan) in enumerate(plans.items()):
            path = work / f"{name}.json"
            path.write_text(json.dumps(plan | {"seed": run_seed + i}))
            events_before, (seq_before, _) = vote_events(ballot), log_position(ballot.audit_stream)
            cpu_before = sequencer.cpu_seconds() if sequencer else 0.0
            _, _, output = run_child([PYTHON, "-m", "bench.load", str(path)])
            found[name] = json.loads(output)
            if sequencer:
                found[name]["drained_after_s"] = placing.wait_drained(ballot.audit_stream)
                if name == "trivial_insert":  # no vote: what looking at the queue costs the sequencer
                    idle = (sequencer.cpu_seconds() - cpu_before) / found[name]["seconds"]
                    found["sequencer_idle_cpu_ms_per_second"] = ms(idle)
            if name != "trivial_insert":
                found[name]["vote_events"] = vote_events(ballot) - events_before
                log(
                    f"    {name}: {found[name]['requests']} requests answered 200,"
                    f" {found[name]['vote_events']} vote events"
                )
                if found[name]["vote_events"] != found[name]["requests"]:
                    raise RuntimeError(f"{name}: every cast answered 200 should write one vote event")
                if sequencer:
                    seq_after, queued = log_position(ballot.audit_stream)
                    if queued:
                        raise RuntimeError(f"{name}: {queued} events left queued once the queue drained")
                    figures = placing.lag_figures(placing.lags(ballot.audit_stream, seq_before, seq_after))
                    placed = seq_after - seq_before
                    cpu = sequencer.cpu_seconds() - cpu_before
                    per_event = round(cpu * 1000 / placed, 3) if placed else None
                    figures |= {"placed": placed, "cpu_ms": ms(cpu), "cpu_ms_per_event": per_event}
                    figures["batches"] = placing.batches(ballot.audit_stream, seq_before, seq_after)
                    if figures["events"] != found[name]["vote_events"]:
                        raise RuntimeError(f"{name}: the sequencer placed {figures['events']} of the load's votes")
                    found[name]["sequencer"] = figures
            log(f"    {name}: {found[name]}")
        found["in_process"] = measure_request_cpu(ballot, sessions)
        log(f"    in process: {found['in_process']}")
        found["service"] = measure_cast_service(ballot)
        if sequencer:
            placing.wait_drained(ballot.audit_stream)
    found["throughput_share"] = round(found["cast"]["throughput"] / found["trivial_insert"]["throughput"], 2)
    found["p95_ratio"] = round(found["cast"]["p95_ms"] / found["trivial_insert"]["p95_ms"], 2)
    return found


def vote_events(ballot) -> int:
    """The vote events of the ballot's audit stream, in its log or queued: one per vote cast or changed."""
    from audit.models import AuditEvent, QueuedEvent
    from plenary_tally.vocabulary import SETS_THE_CELL

    stream, actions = ballot.audit_stream, SETS_THE_CELL
    in_log = AuditEvent.objects.filter(stream=stream, action__in=actions).count()
    return in_log + QueuedEvent.objects.filter(stream=stream, action__in=actions).count()


def measure_request_cpu(ballot, sessions: list[dict], requests: int = 200) -> dict:
    """One htmx cast after another through Django's test client, in this process, beside the trivial insert.

    The CPU this process spends per request (`time.process_time`: the middleware, the view, the ORM, the
    template; PostgreSQL's own work is in its processes) and the queries each request sends, as ratios to
    the trivial insert measured the same way; each cast changes the stored vote, as in `bench.load`.
    """
    from django.db import connection
    from django.test import Client

    from bench.load import Walk

    cast_path = f"/d/{ballot.definition.slug}/ballots/{ballot.key}/vote/"
    session = sessions[-1]
    client = Client(enforce_csrf_checks=True, HTTP_HOST="127.0.0.1")
    client.cookies["sessionid"], client.cookies["csrftoken"] = session["sessionid"], session["csrftoken"]
    headers = {"X-CSRFToken": session["csrftoken"]}
    walk = Walk(session["form"], time.time_ns() % 1_000_000_007, 0)

    def insert():
        return client.post("/bench/insert/", {"choice": "a"}, headers=headers), 204

    def cast():
        return client.post(cast_path, walk.next(), headers=headers | {"HX-Request": "true"}), 200

    queries: list[str] = []

    def counting(execute, sql, *args):  # as sent: the debug log of queries is emptied as each request starts
        queries.append(sql)
        return execute(sql, *args)

    found: dict = {}
    for name, post in (("trivial_insert", insert), ("cast", cast)):
        for _ in range(20):  # warm: the first requests of a process import and compile what they need
            post()
        queries.clear()
        with connection.execute_wrapper(counting):
            response, status = post()
        assert response.status_code == status, response.content[:300]
        started = time.process_time()
        for _ in range(requests):
            post()
        cpu = (time.process_time() - started) / requests
        found[name] = {"cpu_ms": round(cpu * 1000, 2), "queries": len(queries)}
    found["cpu_ratio"] = round(found["cast"]["cpu_ms"] / found["trivial_insert"]["cpu_ms"], 1)
    found["requests"] = requests
    return found


def measure_cast_service(ballot, casts: int = 60) -> dict:
    """`cast_vote` alone, one after another: how long a vote holds the ballot's place in line, at most."""
    import random

    from django.contrib.auth import get_user_model

    from votes import services

    voter = get_user_model().objects.get(username="caster-0199")
    components = list(ballot.version.components.leaves())
    criteria = list(ballot.criteria.all())
    choices = [c for c in ballot.choices.all() if not c.requires_grant]
    pick = random.Random(7)
    times = []
    for _ in range(casts):
        started = time.perf_counter()
        services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=pick.choice(components),
            criterion=pick.choice(criteria),
            choice=pick.choice(choices),
        )
        times.append(time.perf_counter() - started)
    return {"casts": casts, "p50_ms": ms(statistics.median(times)), "p95_ms": ms(sorted(times)[int(0.95 * casts)])}


# The report ----------------------------------------------------------------------------------


def machine() -> dict:
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
        cursor.execute("SHOW max_parallel_workers_per_gather")
        parallel = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        buffers = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(memory, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "postgresql_parallel_workers_per_gather": parallel,
        "postgresql_shared_buffers": buffers,
        "platform": platform.platform(),
        "gunicorn": f"{WORKERS} sync workers",
    }


def table(report: dict) -> str:
    """Every figure beside its baseline, one column per size, as a Markdown table."""
    sizes = report["sizes"]

    def row(label: str, cell) -> list[str]:
        values = []
        for size in sizes:
            try:
                values.append(cell(size))
            except (KeyError, TypeError, ZeroDivisionError):
                values.append("–")
        return [label, *values]

    def page(name: str):
        return lambda s: f"{s['pages'][name]['p50_ms']:.0f} / {s['pages'][name]['p95_ms']:.0f} ms"

    def latency(name: str):
        return lambda s: f"{s['casting'][name]['p50_ms']:.0f} / {s['casting'][name]['p95_ms']:.0f} ms"

    def lag(name: str):
        def cell(s: dict) -> str:
            figures = s["casting"][name]["sequencer"]
            return f"{figures['lag_p50_ms']:.0f} / {figures['lag_p95_ms']:.0f} / {figures['lag_max_ms']:.0f} ms"

        return cell

    def sequencer_cpu(name: str):
        def cell(s: dict) -> str:
            figures = s["casting"][name]["sequencer"]
            return f"{figures['cpu_ms_per_event']:.2f} ms ({figures['placed'] / figures['batches']:.1f} per batch)"

        return cell

    def seconds(figure: str, key: str):
        return lambda s: f"{s[figure][key] / 1000:.2f} s"

    recompute, casting, export = "recompute", "casting", "export"
    rows = [
        row("**recompute**, all scenarios + clustering", lambda s: f"{s[recompute]['recompute_ms']:.0f} ms"),
        row("  baseline: SQL `SUM(value) GROUP BY` cell", lambda s: f"{s[recompute]['baseline_ms']:.0f} ms"),
        row("  ratio (target ≤ 3×)", lambda s: f"{s[recompute]['ratio']:.1f}×"),
        row(
            "  of which: read the votes / compute",
            lambda s: f"{s[recompute]['read_votes_ms']:.0f} / {s[recompute]['compute_ms']:.0f} ms",
        ),
        row("**cast a vote**, 50 clients, throughput", lambda s: f"{s[casting]['cast']['throughput']:.0f}/s"),
        row("  baseline: trivial insert view", lambda s: f"{s[casting]['trivial_insert']['throughput']:.0f}/s"),
        row("  share (target ≥ 0.5)", lambda s: f"{s[casting]['throughput_share']:.2f}"),
        row("  cast p50 / p95, saturated", latency("cast")),
        row("  baseline p50 / p95, saturated", latency("trivial_insert")),
        *(row(f"  cast p50 / p95 paced at {r}/s", latency(f"cast_at_{r}_per_second")) for r in RATES),
        *(
            row(f"  sequencer lag p50 / p95 / max, {label}", lag(load))
            for label, load in (("saturated", "cast"), *((f"at {r}/s", f"cast_at_{r}_per_second") for r in RATES))
        ),
        *(
            row(f"  sequencer CPU per event (events per batch), {label}", sequencer_cpu(load))
            for label, load in (("saturated", "cast"), *((f"at {r}/s", f"cast_at_{r}_per_second") for r in RATES))
        ),
        row(
            "  sequencer CPU when idle (looking at the queue)",
            lambda s: f"{s[casting]['sequencer_idle_cpu_ms_per_second']:.0f} ms/s",
        ),
        row(
            "  `cast_vote` alone p50 / p95 (the ballot's line)",
            lambda s: f"{s[casting]['service']['p50_ms']:.0f} / {s[casting]['service']['p95_ms']:.0f} ms",
        ),
        row("**results page** p50 / p95 (target p95 < 150)", page("results")),
        row("**roll call** p50 / p95, first page", page("roll_call")),
        row("  a page in the middle", page("roll_call_middle_page")),
        row("  the last page", page("roll_call_last_page")),
        row("  one voter", page("roll_call_one_voter")),
        row("  one component", page("roll_call_one_component")),
        row("  disputed votes", page("roll_call_disputed")),
        row("  undocumented vetoes", page("roll_call_undocumented")),
        row("ballot page p50 / p95", page("ballot")),
        row("vote grid p50 / p95", page("vote_grid")),
        row("audit log p50 / p95", page("audit_log")),
        row("**bundle export** (outcomes of the stored run)", seconds(export, "export_ms")),
        row("  baseline: `COPY (SELECT …) TO STDOUT CSV`", seconds(export, "baseline_copy_ms")),
        row("  ratio (target ≤ 2×)", lambda s: f"{s[export]['ratio']:.1f}×"),
        row("  COPY of the votes and the audit log", seconds(export, "copy_votes_and_audit_ms")),
        row("  ratio to that", lambda s: f"{s[export]['ratio_to_votes_and_audit']:.1f}×"),
        row("  peak memory (target < 300 MB)", lambda s: f"{s[export]['peak_rss_mb']:.0f} MB"),
        row("  export computing the outcomes afresh", seconds(export, "export_computing_outcomes_ms")),
        row("  its peak memory", lambda s: f"{s[export]['export_computing_outcomes_rss_mb']:.0f} MB"),
        row("  bundle size", lambda s: f"{s[export]['bundle_mb']:.0f} MB"),
        row("**verify** the bundle (target < 60 s)", lambda s: f"{s['verify']['seconds']:.1f} s"),
        row("  peak memory", lambda s: f"{s['verify']['peak_rss_mb']:.0f} MB"),
        row(
            "load average at start / end (1 min)", lambda s: f"{s['load_at_start'][0]:.1f} / {s['load_at_end'][0]:.1f}"
        ),
        row("building the ballot (not a figure)", lambda s: f"{s['build_seconds']:.0f} s"),
    ]
    head = ["figure", *(f"N = {s['votes']:,}" for s in sizes)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", type=int, nargs="+", help="ballot sizes (default 10,000 100,000 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="10,000 and 100,000 votes only")
    parser.add_argument("--json", default=str(ROOT / "var" / "bench.json"), help="where to write the figures")
    parser.add_argument("--runs", type=int, default=5, help="runs per median (default 5; export and verify: 3)")
    parser.add_argument("--requests", type=int, default=40, help="requests per page for its p95 (default 40)")
    parser.add_argument("--cast-seconds", type=float, default=20, help="seconds of each HTTP load (default 20)")
    parser.add_argument("--reuse", action="store_true", help="keep the bench database and the ballots it holds")
    parser.add_argument("--skip", nargs="*", default=[], choices=FIGURES)
    parser.add_argument(
        "--only", choices=FIGURES, help="these figures alone, by default at the smallest size (10,000 votes)"
    )
    args = parser.parse_args(argv)
    sizes = args.votes or (SIZES[:1] if args.only else QUICK if args.quick else SIZES)
    if args.only:
        args.skip = [figure for figure in FIGURES if figure != args.only]

    load_before = os.getloadavg()
    url = os.environ.setdefault("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    if redis_answers():
        os.environ["BENCH_BROKER_URL"] = f"redis://{REDIS[0]}:{REDIS[1]}/{BENCH_REDIS_DB}"
    log(f"database {url} ({'kept' if args.reuse else 'created afresh'})")
    prepare_database(url, fresh=not args.reuse)

    import django

    django.setup()
    from django.core.management import call_command

    from bench import fixture

    call_command("migrate", verbosity=0)
    from django.db import connection

    from bench.views import CREATE

    with connection.cursor() as cursor:
        cursor.execute(CREATE)

    report: dict = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "load_before": [round(x, 2) for x in load_before],
        "broker": os.environ.get("BENCH_BROKER_URL", "memory://"),
        "targets": TARGETS,
        "sizes": [],
    }
    json_path = Path(args.json)
    json_path.parent.mkdir(parents=True, exist_ok=True)
    runs_slow = max(1, min(args.runs, 3))
    with tempfile.TemporaryDirectory(prefix="plenary-bench-") as tmp, Server(dict(os.environ)) as server:
        work = Path(tmp)
        for n in sizes:
            size: dict = {"votes": n, "load_at_start": [round(x, 2) for x in os.getloadavg()]}
            report["sizes"].append(size)
            ballot = fixture.find(n) if args.reuse else None
            if ballot is None:
                log(f"N = {n:,}: building the ballot")
                built = fixture.build(n, log=log)
                ballot = built.ballot
                size |= {"build_seconds": round(built.seconds, 1), "audit_events": built.events}
            size |= {"voters": fixture.voters_for(n), "cells": fixture.CELLS, "ballot": ballot.pk}
            if "recompute" not in args.skip:
                log(f"N = {n:,}: recompute")
                size["recompute"] = measure_recompute(ballot, args.runs)
                log(f"  {size['recompute']}")
            casters = fixture.casters_of(ballot)
            sessions = sessions_for(ballot, casters)
            if "pages" not in args.skip:
                log(f"N = {n:,}: pages")
                size["pages"] = measure_pages(server.port, ballot, sessions[0], args.requests)
                log(f"  {json.dumps({k: v['p95_ms'] for k, v in size['pages'].items()})}")
            if "export" not in args.skip:
                log(f"N = {n:,}: export and verify")
                size["export"] = measure_export(ballot, runs_slow, work)
                log(f"  {size['export']}")
                size["verify"] = measure_verify(size["export"].pop("bundle"), runs_slow)
                log(f"  {size['verify']}")
            if "casting" not in args.skip:
                log(f"N = {n:,}: casting votes over HTTP")
                size["casting"] = measure_casting(server.port, ballot, sessions, args.cast_seconds, work)
            size["load_at_end"] = [round(x, 2) for x in os.getloadavg()]
            json_path.write_text(json.dumps(report, indent=2))
    purge_bench_queue()
    report["load_after"] = [round(x, 2) for x in os.getloadavg()]
    report["bench_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    json_path.write_text(json.dumps(report, indent=2))
    print(table(report))
    print(f"\nload average (1, 5, 15 min): before {report['load_before']}, after {report['load_after']}")
    print(f"figures written to {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
