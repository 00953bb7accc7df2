"""Who gets what on every votes page: each persona, on GET and on POST.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; dave is
a member of `corpora`; carol is signed in but belongs to nothing; oscar organizes another
definition; an anonymous observer is not signed in. `ballot` is the open ballot `components` on
version 0.0.9 (components code, data and the aggregate all-data) for weights and corpora.
Ballots are public, so outsiders get 403 — never 404 — for what they may see but not do.
All of it is built once per module (`_world_once`); each test rolls back what it wrote.
"""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.urls import reverse

from audit.models import AuditEvent
from tests.client import assert_sent_to_login, sign_in, text
from tests.conftest import (
    from_world,
    make_definition,
    make_group,
    make_oscar,
    make_other_group,
    make_persona,
    make_published,
)
from tests.votes.conftest import make_dispute, make_grant, make_scheduled, make_voted
from tests.votes.pages import NOT_ORGANIZERS, PERSONAS, ballot_rows, ballot_url, cell, url
from votes import services
from votes.models import Ballot, Dispute, VetoGrant

# The world, built once per module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas and `dispute` (on `voted`, on `ballot`) as tests/conftest.py and tests/votes/conftest.py
    build them, once per module in a transaction that each test's own nests in and rolls back to (as
    Django's TestCase.setUpTestData does); rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        w.oscar = make_oscar()
        published = make_published(make_definition(w.olga))
        group, other_group = (
            make_group(published.definition, w.alice, w.bob),
            make_other_group(published.definition, w.dave),
        )
        ballot = services.open_ballot(ballot=make_scheduled(w.olga, published, group, other_group), acting_user=w.olga)
        make_grant(ballot, w.olga, group)
        w.dispute = make_dispute(make_voted(ballot, w.alice, w.bob, w.dave), w.bob, other_group)
        yield w
        transaction.set_rollback(True)


olga, alice, bob, carol, dave, oscar, dispute = from_world("olga", "alice", "bob", "carol", "dave", "oscar", "dispute")


# Who gets what -------------------------------------------------------------------------------

LOGIN = "login"  # a redirect to the sign-in page, with `next` pointing back
ANYONE = (200,) * 7
OLGA_ONLY = (LOGIN, 403, 403, 403, 403, 403, 200)
MEMBERS_ONLY = (LOGIN, 403, 200, 200, 200, 403, 403)
POST_ONLY = (LOGIN, 405, 405, 405, 405, 405, 405)

# Each endpoint: its path, what each of PERSONAS gets on GET, and on POST of the data (302 = done).
ENDPOINTS = {
    "ballot-list": (lambda: url("ballot-list", "osd"), ANYONE, None),
    "ballot": (lambda: ballot_url("ballot"), ANYONE, None),
    "roll-call": (lambda: ballot_url("roll-call"), ANYONE, None),
    "audit-log": (lambda: reverse("audit:log"), ANYONE, None),
    "ballot-create": (lambda: url("ballot-create", "osd"), OLGA_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "ballot-open": (lambda: ballot_url("ballot-open"), OLGA_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "ballot-close": (lambda: ballot_url("ballot-close"), OLGA_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "ballot-edit": (lambda: ballot_url("ballot-edit"), OLGA_ONLY, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "vote-grid": (lambda: ballot_url("vote-grid"), MEMBERS_ONLY, (LOGIN, 403, 302, 302, 302, 403, 403)),
    # bob's own handle in the on-behalf address is simply his own grid
    "vote-grid-on-behalf": (
        lambda: ballot_url("vote-grid-on-behalf", "bob"),
        (LOGIN, 403, 403, 200, 403, 403, 200),
        (LOGIN, 403, 403, 302, 403, 403, 302),
    ),
    "grants": (lambda: ballot_url("grants"), ANYONE, (LOGIN, 403, 403, 403, 403, 403, 302)),
    "grant-revoke": (
        lambda: ballot_url("grant-revoke", VetoGrant.objects.get().pk),
        POST_ONLY,
        (LOGIN, 403, 403, 403, 403, 403, 302),
    ),
    "disputes": (lambda: ballot_url("disputes"), ANYONE, (LOGIN, 403, 302, 302, 302, 403, 302)),
    "dispute-resolve": (
        lambda: ballot_url("dispute-resolve", Dispute.objects.get().pk),
        POST_ONLY,
        (LOGIN, 403, 403, 403, 403, 403, 302),
    ),
}


def valid_post(name: str, ballot: Ballot) -> dict:
    """What each endpoint accepts from someone allowed to use it."""
    return {
        "ballot-create": {
            "title": "Another look",
            "key": "another-look",
            "version": ballot.version_id,
            "groups": list(ballot.groups.values_list("pk", flat=True)),
            **ballot_rows([("use", "Use")], [{"key": "yes", "label": "Yes", "value": "1"}]),
            "results_visibility": "live",
            "eligibility": "frozen",
            "time_zone": "UTC",
            "rule": "mean-bands",
            "bands": "1 Maybe",
            "otherwise": "No",
            "k": "2",
            "seed": "1",
        },
        "ballot-edit": {"time_zone": "UTC", "closes_at": "2040-01-01T12:00", "reason": "More time."},
        "vote-grid": cell("code", "share", "required"),
        "vote-grid-on-behalf": cell("code", "share", "required"),
        "grants": {"choice": ballot.choices.get(key="not-necessary").pk, "member": "dave", "reason": "Expert."},
        "grant-revoke": {"reason": "No longer needed."},
        "disputes": {"voter": "bob", "reason": "Cast by mistake."},
        "dispute-resolve": {"status": "dismissed", "resolution": "Nothing wrong."},
    }.get(name, {})


def assert_gets(response, expected, path: str) -> None:
    if expected == LOGIN:
        assert_sent_to_login(response, path)
    else:
        assert response.status_code == expected
    if expected == 403:  # says why, not just "no"
        assert "You may see this, but not do that." not in text(response)


@pytest.mark.parametrize("name", ENDPOINTS.keys())
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_gets_what_on_get(name, persona, request, client, oscar, dispute, nothing_written):
    path, expected, _ = ENDPOINTS[name]
    sign_in(client, request, persona)

    with nothing_written():
        response = client.get(path())

    assert_gets(response, expected[PERSONAS.index(persona)], path())


@pytest.mark.parametrize("name", [name for name, (_, _, post) in ENDPOINTS.items() if post])
@pytest.mark.parametrize("persona", PERSONAS)
def test_who_gets_what_on_post(name, persona, request, client, oscar, dispute, nothing_written):
    path, _, expected = ENDPOINTS[name]
    expected = expected[PERSONAS.index(persona)]
    sign_in(client, request, persona)
    data = valid_post(name, dispute.ballot)

    if expected == 302:
        events = AuditEvent.objects.count()
        response = client.post(path(), data)
        assert AuditEvent.objects.count() == events + (0 if name == "ballot-open" else 1)  # it is already open
    else:
        with nothing_written():
            response = client.post(path(), data)

    assert_gets(response, expected, path())


@pytest.mark.parametrize("persona", [None, "carol", "olga"])
def test_an_unknown_ballot_grant_or_dispute_is_404(persona, request, client, dispute):
    sign_in(client, request, persona)

    for path in [
        url("ballot-list", "nope"),
        url("ballot", "osd", "nope"),
        url("roll-call", "nope", "components"),
        url("grants", "osd", "nope"),
        url("disputes", "osd", "nope"),
    ]:
        assert client.get(path).status_code == 404, path
    if persona == "olga":
        assert client.post(ballot_url("grant-revoke", 999), {"reason": "x"}).status_code == 404
        assert (
            client.post(ballot_url("dispute-resolve", 999), {"status": "upheld", "resolution": "x"}).status_code == 404
        )
        assert client.post(ballot_url("vote-grid-on-behalf", "nobody"), cell()).status_code == 404


@pytest.mark.parametrize("name", ["ballot-create", "vote-grid", "vote-grid-on-behalf", "grants", "disputes"])
def test_form_pages_answer_only_get_and_post(name, client, olga, dispute):
    client.force_login(olga)
    path = ENDPOINTS[name][0]()

    assert client.put(path).status_code == 405
    assert client.delete(path).status_code == 405


@pytest.mark.parametrize("persona", NOT_ORGANIZERS)
def test_only_organizers_see_the_organizer_controls(persona, request, client, oscar, dispute):
    sign_in(client, request, persona)

    overview = client.get(ballot_url("ballot")).content.decode()
    grants = client.get(ballot_url("grants")).content.decode()
    disputes = client.get(ballot_url("disputes")).content.decode()

    assert "Close voting" not in overview and "Grant a veto power" not in overview
    assert "Revoke" not in grants and "Grant a veto power" not in grants
    assert "Resolve dispute" not in disputes
    assert "New ballot" not in client.get(url("ballot-list", "osd")).content.decode()


def test_the_organizer_sees_the_organizer_controls(client, olga, dispute):
    client.force_login(olga)

    assert "Close voting…" in text(client.get(ballot_url("ballot")))
    assert "Revoke" in text(client.get(ballot_url("grants")))
    assert f"Resolve dispute #{dispute.pk}" in text(client.get(ballot_url("disputes")))
    assert "New ballot" in text(client.get(url("ballot-list", "osd")))
