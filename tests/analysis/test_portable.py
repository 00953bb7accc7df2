"""The outcomes are a function of the bundle alone: the same bytes whatever the order of its files' rows and lists,
the threads or the CPU kernel of the BLAS, and they verify wherever an observer runs the verifier.

Random small ballots (`randomballots`), tie-prone on purpose: 2–8 voters, values −1, 0 and +1.
"""

import hashlib
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plenary_tally import recompute, verify

from . import randomballots

HERE = Path(__file__).resolve().parent
BALLOTS = 500


def _outcomes_bytes(folder: Path, ballot: dict, rows: list[dict]) -> str:
    (folder / "ballot.json").write_text(json.dumps(ballot))
    (folder / "votes.csv").write_text(randomballots.votes_csv(rows))
    return json.dumps(recompute(folder), sort_keys=True)


@pytest.mark.slow
@settings(max_examples=BALLOTS, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), shuffle=st.randoms(use_true_random=False))
def test_no_order_in_the_files_changes_a_byte_of_the_outcomes(seed, shuffle: random.Random):
    ballot, rows = randomballots.ballot_and_votes(seed)
    reordered = json.loads(json.dumps(ballot))
    for listed in (reordered["components"], reordered["working_groups"], rows):
        shuffle.shuffle(listed)
    for group in reordered["working_groups"]:
        shuffle.shuffle(group["members"])
    with tempfile.TemporaryDirectory() as first, tempfile.TemporaryDirectory() as second:
        as_written = _outcomes_bytes(Path(first), ballot, sorted(rows, key=lambda r: (r["component"], r["voter"])))
        assert _outcomes_bytes(Path(second), reordered, rows) == as_written


@pytest.fixture(scope="module")
def bundles(tmp_path_factory) -> Path:
    """BALLOTS whole bundles, written (and their outcomes computed) in this process, with its environment."""
    folder = tmp_path_factory.mktemp("random-bundles")
    for seed in range(BALLOTS):
        randomballots.write(folder / f"{seed:04d}", *randomballots.ballot_and_votes(seed))
    return folder


def _run(command: str, folder: Path, **env: str) -> subprocess.CompletedProcess:
    """randomballots' command in a process with a clean environment, but for `env`: as an observer's machine has it."""
    clean = {"PATH": "/usr/bin:/bin", "HOME": str(folder)} | env
    return subprocess.run(
        [sys.executable, str(HERE / "randomballots.py"), command, str(folder)],
        env=clean, capture_output=True, text=True, timeout=600, cwd=folder,
    )  # fmt: skip


@pytest.mark.slow
def test_one_thread_or_two_give_the_same_bytes(bundles):
    one, two = (_run("digests", bundles, OPENBLAS_NUM_THREADS=n, OMP_NUM_THREADS=n) for n in ("1", "2"))
    assert one.returncode == two.returncode == 0, one.stderr + two.stderr
    assert len(one.stdout.splitlines()) == BALLOTS
    assert one.stdout == two.stdout


@pytest.mark.slow
@pytest.mark.parametrize("kernel", [None, "Prescott"])
def test_bundles_verify_under_another_cpu_kernel_and_give_the_same_bytes(bundles, kernel):
    # The bundles were written with this process' BLAS kernel; an observer's machine picks its own (None),
    # or a generic one (Prescott runs on any x86-64 CPU).
    env = {"OPENBLAS_CORETYPE": kernel} if kernel else {}
    verified = _run("verify", bundles, **env)
    assert verified.returncode == 0, verified.stdout[-3000:] + verified.stderr[-3000:]
    assert verified.stdout.splitlines()[-1] == f"{BALLOTS} of {BALLOTS} bundles verified"
    digests = _run("digests", bundles, **env).stdout.splitlines()
    here = [f"{p.name} {randomballots.digest(p)}" for p in sorted(bundles.iterdir())]
    assert digests == here


@pytest.mark.slow  # writing the BALLOTS bundles takes about 12 s; the tests above share them in the full run
def test_the_random_ballots_are_the_kind_that_broke_before(bundles):
    # what the checks above are worth: many ballots with opinion groups, partial grids, ties and degenerate axes
    groups = [json.loads((p / "outcomes.json").read_text())["opinion_groups"] for p in sorted(bundles.iterdir())]
    placed = [g for g in groups if g["points"]]
    assert len(placed) > BALLOTS // 3
    assert sum(1 for g in groups if g["unplaced"]) > BALLOTS // 10
    assert sum(1 for g in placed if len({p["cluster"] for p in g["points"]}) > 1) > BALLOTS // 4
    assert sum(1 for g in placed if len(g["axes"]) == 2 and g["axes"][1]["variance"] == 0) > 0  # any axis would do


def _with_groups(tmp_path: Path) -> Path:
    """A random bundle whose opinion groups have two axes."""
    for seed in range(BALLOTS):
        ballot, rows = randomballots.ballot_and_votes(seed)
        path = randomballots.write(tmp_path / f"{seed:04d}", ballot, rows)
        if len(json.loads((path / "outcomes.json").read_text())["opinion_groups"]["axes"]) == 2:
            return path
    raise AssertionError("no random ballot with two axes")


def _tamper_outcomes(path: Path, change) -> None:
    published = json.loads((path / "outcomes.json").read_text())
    change(published["opinion_groups"])
    (path / "outcomes.json").write_text(json.dumps(published, sort_keys=True, indent=2))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"]["outcomes.json"] = hashlib.sha256((path / "outcomes.json").read_bytes()).hexdigest()
    (path / "manifest.json").write_text(json.dumps(manifest, sort_keys=True))


def test_axes_that_are_not_the_covariance_s_eigenvectors_do_not_verify(tmp_path):
    path = _with_groups(tmp_path)
    assert verify(path).ok

    def bend(groups):
        loadings = groups["axes"][0]["loadings"]
        loadings[0], loadings[-1] = loadings[-1], loadings[0] + 0.001

    _tamper_outcomes(path, bend)
    report = verify(path)
    assert any(line.startswith("opinion groups: FAILED") for line in report.lines())
    assert any("opinion_groups.axes: axes[0]" in str(p) for p in report.problems), report.lines()


def test_a_voter_moved_to_another_opinion_group_does_not_verify_whatever_the_axes(tmp_path):
    path = _with_groups(tmp_path)

    def move(groups):
        point = groups["points"][0]
        point["cluster"] = 1 if point["cluster"] != 1 else 2

    _tamper_outcomes(path, move)
    report = verify(path)
    assert not report.ok
    assert any(str(p).startswith("outcomes.json: opinion_groups.points[0]") for p in report.problems), report.lines()
