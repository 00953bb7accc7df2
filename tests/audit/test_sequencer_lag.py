"""The bench's reading of the sequencer's lag: each vote from its `at` to the checkpoint of the batch that
placed it (`bench/placing.py`), read from the log the sequencer built.

PostgreSQL only: the queue is off on SQLite, where every event is recorded in place.
"""

import time

import pytest
from django.conf import settings

from audit import sequencer
from audit.models import AuditEvent, Checkpoint, log_position
from bench import placing

POSTGRESQL = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
pytestmark = pytest.mark.skipif(not POSTGRESQL, reason="needs PostgreSQL: on SQLite every event is recorded in place")


@pytest.fixture(autouse=True)
def queue(settings):
    settings.AUDIT_QUEUE = True


def test_each_vote_lags_until_the_checkpoint_of_the_batch_that_placed_it(ballot, cast, bob, alice, dave):
    stream = ballot.audit_stream
    start, _ = log_position(stream)
    cast(bob, "code", "use", "required")
    cast(alice, "code", "use", "abstain")
    cast(dave, "data", "study", "required")
    assert sequencer.integrate(stream, batch=2) == 2
    time.sleep(0.3)  # the next batch's checkpoint is signed well after the first's
    assert sequencer.integrate(stream) == 1
    upto, queued = log_position(stream)
    assert queued == 0

    found = placing.lags(stream, start, upto)

    first, second = Checkpoint.objects.filter(stream=stream, size__gt=start).order_by("size")
    events = AuditEvent.objects.filter(stream=stream, seq__gt=start).order_by("seq")
    expected = [((first if e.seq <= first.size else second).signed_at - e.at).total_seconds() for e in events]
    assert found == pytest.approx(expected, abs=1e-6)
    assert found[0] < 0.3 <= found[2]
    assert placing.batches(stream, start, upto) == 2
    figures = placing.lag_figures(found)
    assert figures["events"] == 3
    assert figures["lag_max_ms"] == pytest.approx(max(expected) * 1000, abs=0.1)


def test_only_the_vote_events_of_the_range_count(ballot, cast, bob, alice):
    stream = ballot.audit_stream
    cast(bob, "code", "use", "required")
    sequencer.integrate(stream)
    start, _ = log_position(stream)
    cast(alice, "code", "use", "abstain")
    sequencer.integrate(stream)
    upto, _ = log_position(stream)

    assert len(placing.lags(stream, start, upto)) == 1
    assert placing.lags(stream, upto, upto) == []
    assert placing.lag_figures([])["lag_p95_ms"] is None


def test_a_placed_vote_no_checkpoint_covers_is_refused(ballot, cast, bob, monkeypatch):
    stream = ballot.audit_stream
    start, _ = log_position(stream)
    cast(bob, "code", "use", "required")
    monkeypatch.setattr(sequencer, "after_batch", lambda stream: None)  # a sequencer that signs nothing
    sequencer.integrate(stream)
    upto, _ = log_position(stream)
    assert not Checkpoint.objects.filter(stream=stream, size__gte=upto).exists()

    with pytest.raises(RuntimeError, match="no checkpoint covers"):
        placing.lags(stream, start, upto)
