"""The audit log page through its real URL: filters, the stream's head, pages, details.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
"""

import html
import re

from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent, head, record
from tests.client import text
from tests.votes.pages import assert_same_queries_when_the_data_grows, ballot_url, more_votes
from votes import services

# The audit log -------------------------------------------------------------------------------


def event_ids(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr id="event-(\d+)">', response.content.decode())]


def test_the_audit_log_filters_by_stream_action_and_actor(client, olga, published, voted, group):
    services.create_ballot(
        version=published,
        key="other",
        title="Other",
        groups=[group],
        criteria=[("use", "Use")],
        choices=[{"key": "yes", "label": "Yes", "value": 1}],
        acting_user=olga,
    )
    log = reverse("audit:log")
    events = AuditEvent.objects.order_by("-pk")

    assert event_ids(client.get(log)) == list(events.values_list("pk", flat=True))
    by_stream = client.get(log, {"stream": voted.audit_stream})
    assert event_ids(by_stream) == list(events.filter(stream=voted.audit_stream).values_list("pk", flat=True))
    assert "ballot:osd/other" in by_stream.content.decode()  # offered in the stream filter
    by_action = client.get(log, {"action": "vote."})
    assert event_ids(by_action) == list(events.filter(action__startswith="vote.").values_list("pk", flat=True))
    assert len(event_ids(by_action)) == 5
    by_actor = client.get(log, {"actor": "@dave"})
    assert {AuditEvent.objects.get(pk=pk).actor_handle for pk in event_ids(by_actor)} == {"dave"}
    assert len(event_ids(by_actor)) == 2
    both = client.get(log, {"action": "grant.", "actor": "olga", "stream": voted.audit_stream})
    assert [AuditEvent.objects.get(pk=pk).action for pk in event_ids(both)] == ["grant.made"]
    assert event_ids(client.get(log, {"actor": "nobody"})) == []
    assert "No event matches." in text(client.get(log, {"actor": "nobody"}))


def test_the_audit_log_shows_the_head_of_the_chosen_stream(client, voted):
    last = AuditEvent.objects.filter(stream=voted.audit_stream).order_by("-seq").first()

    response = client.get(reverse("audit:log"), {"stream": voted.audit_stream})

    assert f"Head of {voted.audit_stream}: {last.hash}" in text(response)
    assert head(voted.audit_stream) == last.hash
    assert last.hash in text(client.get(ballot_url("ballot")))
    assert "Head of" not in text(client.get(reverse("audit:log")))


def test_the_audit_log_paginates_and_keeps_the_filters(client, bob, ballot):
    with transaction.atomic():
        for n in range(60):
            record(stream="test:pages", actor=bob, action="test.ping", subject=ballot, payload={"n": n})
    log = reverse("audit:log")

    first = client.get(log, {"stream": "test:pages"})
    second = client.get(log, {"stream": "test:pages", "page": "2"})

    pings = list(AuditEvent.objects.filter(stream="test:pages").order_by("-pk").values_list("pk", flat=True))
    assert event_ids(first) == pings[:50]
    assert event_ids(second) == pings[50:]
    assert "Page 1 of 2 (60)" in text(first)
    assert 'href="?stream=test%3Apages&amp;page=2"' in first.content.decode()
    assert event_ids(client.get(log, {"stream": "test:pages", "page": "99"})) == pings[50:]


def test_the_audit_log_shows_each_events_details(client, voted):
    event = AuditEvent.objects.get(action="vote.cast", actor_handle="bob")

    response = client.get(reverse("audit:log"), {"actor": "bob"})

    row = re.search(rf'<tr id="event-{event.pk}">(.*?)</tr>', response.content.decode(), re.S).group(1)
    assert f"{voted.audit_stream}</code> #{event.seq}" in row
    assert f"votes.vote:{event.subject_id}" in row
    assert "Nobody can study a model without its code." in html.unescape(row)
    assert f'title="{event.hash}; previous {event.prev_hash}"' in row


# Query counts --------------------------------------------------------------------------------


def test_the_audit_log_needs_the_same_queries_for_many_events(client, voted, group, django_assert_max_num_queries):
    for path in (reverse("audit:log"), reverse("audit:log") + f"?stream={voted.audit_stream}&actor=bob"):
        assert_same_queries_when_the_data_grows(
            client, path, lambda: more_votes(voted, group, 2), django_assert_max_num_queries, limit=4
        )
