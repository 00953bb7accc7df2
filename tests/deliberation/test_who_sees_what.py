"""Who may see and open which deliberation page: the public pages, a draft in progress, the editing pages
and the endpoints that take only POST, for each persona.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
Outsiders get 404 for what they may not see and 403 for what they may see but not do. Every URL of Plenary
as every persona is in tests/config/test_permissions.py; these are the deliberation pages' own cases.
The personas, `published` and `group` are built once per module (`_world_once`); each test rolls back what it
wrote.
"""

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from django.db import transaction

from audit.models import AuditEvent
from tests.client import assert_sent_to_login, sign_in
from tests.conftest import from_world, make_definition, make_group, make_persona, make_published
from tests.deliberation.pages import ORGANIZER_PAGES, url

# The world, built once per module ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas, `published` and `group` as tests/conftest.py builds them, once per module in a transaction
    that each test's own nests in and rolls back to (as Django's TestCase.setUpTestData does); rolled back after
    the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave")})
        w.published = make_published(make_definition(w.olga))
        w.group = make_group(w.published.definition, w.alice, w.bob)
        yield w
        transaction.set_rollback(True)


olga, alice, bob, carol, dave, published, group = from_world(
    "olga", "alice", "bob", "carol", "dave", "published", "group"
)


@pytest.fixture
def definition(_world):
    return _world.published.definition


# Who sees what ---------------------------------------------------------------------------------

PUBLIC_PAGES = {
    "definition-list": lambda c: url("definition-list"),
    "definition": lambda c: url("definition", "osd"),
    "release-feed": lambda c: url("release-feed", "osd"),
    "diff": lambda c: url("diff", "osd") + "?from=0.0.9&to=0.0.9",
    "version": lambda c: url("version", "osd", "0.0.9"),
    "component": lambda c: url("component", "osd", "0.0.9", "all-data"),
    "group": lambda c: url("group", "osd", "weights"),
    "comment-history": lambda c: url("comment-history", c.pk),
}


@pytest.mark.parametrize("page", PUBLIC_PAGES.values(), ids=PUBLIC_PAGES.keys())
@pytest.mark.parametrize("persona", [None, "bob", "carol", "olga"])
def test_everyone_reads_the_public_pages(page, persona, request, client, draft, group, comment):
    sign_in(client, request, persona)

    assert client.get(page(comment)).status_code == 200


DRAFT_PAGES = {
    "version": lambda c: url("version", "osd", "0.0.10"),
    "component": lambda c: url("component", "osd", "0.0.10", "code"),
    "comment-history": lambda c: url("comment-history", c.pk),
}


@pytest.mark.parametrize("page", DRAFT_PAGES.values(), ids=DRAFT_PAGES.keys())
@pytest.mark.parametrize("persona", [None, "alice", "bob", "carol", "dave"])
def test_a_draft_in_progress_is_404_for_everyone_but_organizers(page, persona, request, client, group, draft_comment):
    sign_in(client, request, persona)

    assert client.get(page(draft_comment)).status_code == 404


@pytest.mark.parametrize("page", DRAFT_PAGES.values(), ids=DRAFT_PAGES.keys())
def test_organizers_read_their_draft_in_progress(page, client, olga, draft_comment):
    client.force_login(olga)

    response = client.get(page(draft_comment))

    assert response.status_code == 200
    assert b"0.0.10" in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_the_definition_page_does_not_mention_a_draft_in_progress(persona, request, client, draft):
    sign_in(client, request, persona)

    response = client.get(url("definition", "osd"))

    assert b"0.0.9" in response.content
    assert b"0.0.10" not in response.content
    assert b"draft in progress" not in response.content


def test_the_organizer_sees_the_draft_on_the_definition_page(client, olga, draft):
    client.force_login(olga)

    response = client.get(url("definition", "osd"))

    assert b"0.0.10" in response.content
    assert b"draft in progress" in response.content


@pytest.mark.parametrize("persona", [None, "bob", "carol"])
def test_an_unknown_definition_version_or_component_is_404(persona, request, client, published):
    sign_in(client, request, persona)

    for path in [
        url("definition", "nope"),
        url("version", "osd", "9.9"),
        url("component", "osd", "0.0.9", "nope"),
        url("group", "osd", "nope"),
        url("release-feed", "nope"),
        url("diff", "nope"),
    ]:
        assert client.get(path).status_code == 404, path


# Organizer pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("method", ["get", "post"])
def test_editing_pages_send_anonymous_visitors_to_sign_in(page, method, client, draft, nothing_written):
    path = page("0.0.10")

    with nothing_written():
        response = getattr(client, method)(path)

    assert_sent_to_login(response, path)


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_editing_pages_of_a_draft_are_404_for_those_who_cannot_see_it(page, persona, request, client, group, draft):
    sign_in(client, request, persona)

    assert client.get(page("0.0.10")).status_code == 404
    assert client.post(page("0.0.10"), {"body": "x", "release_notes": "x"}).status_code == 404


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_editing_pages_of_a_published_version_are_403_for_non_organizers(
    page, persona, request, client, group, published, nothing_written
):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(page("0.0.9")).status_code == 403
        assert client.post(page("0.0.9"), {"label": "0.0.9", "body": "x", "release_notes": "x"}).status_code == 403


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
def test_editing_pages_of_a_published_version_are_403_for_organizers_too(page, client, olga, published):
    client.force_login(olga)

    response = client.get(page("0.0.9"))

    assert response.status_code == 403
    assert b"published and can no longer change" in response.content


@pytest.mark.parametrize("page", ORGANIZER_PAGES.values(), ids=ORGANIZER_PAGES.keys())
def test_organizers_open_the_editing_pages_of_their_draft(page, client, olga, draft):
    client.force_login(olga)

    assert client.get(page("0.0.10")).status_code == 200


def test_group_creation_is_for_organizers(client, olga, definition, nothing_written):
    path = url("group-create", "osd")
    with nothing_written():
        assert_sent_to_login(client.get(path), path)

    client.force_login(olga)
    assert client.get(path).status_code == 200
    response = client.post(path, {"key": "data", "name": "Data", "description": ""})

    assert response.status_code == 302
    assert response.url == url("group", "osd", "data")
    assert AuditEvent.objects.get().action == "group.created"


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_create_groups(persona, request, client, group, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.get(url("group-create", "osd")).status_code == 403
        assert client.post(url("group-create", "osd"), {"key": "x", "name": "X"}).status_code == 403


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_start_drafts(persona, request, client, group, published, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        response = client.post(url("draft-start", "osd"), {"from": "0.0.9", "label": "0.0.10"})

    assert response.status_code == 403


@pytest.mark.parametrize("persona", ["alice", "bob", "carol"])
def test_non_organizers_cannot_remove_components(persona, request, client, group, draft, nothing_written):
    sign_in(client, request, persona)

    with nothing_written():
        assert client.post(url("component-remove", "osd", "0.0.9", "code")).status_code == 403
        assert client.post(url("component-remove", "osd", "0.0.10", "code")).status_code == 404


POST_ONLY = {
    "comment-create": lambda: url("comment-create", "osd", "0.0.9"),
    "component-comment-create": lambda: url("component-comment-create", "osd", "0.0.9", "code"),
    "draft-start": lambda: url("draft-start", "osd"),
    "component-remove": lambda: url("component-remove", "osd", "0.0.10", "code"),
    "member-add": lambda: url("member-add", "osd", "weights"),
}


@pytest.mark.parametrize("page", POST_ONLY.values(), ids=POST_ONLY.keys())
def test_post_only_endpoints_reject_get(page, client, olga, draft, group, nothing_written):
    client.force_login(olga)

    with nothing_written():
        assert client.get(page()).status_code == 405


@pytest.mark.parametrize("page", POST_ONLY.values(), ids=POST_ONLY.keys())
def test_post_only_endpoints_send_anonymous_visitors_to_sign_in(page, client, draft, group, nothing_written):
    path = page()

    with nothing_written():
        assert_sent_to_login(client.post(path, {"body": "Hi", "label": "0.0.11", "username": "carol"}), path)


@pytest.mark.parametrize(
    "page",
    [
        lambda c: url("draft-edit", "osd", "0.0.10"),
        lambda c: url("comment-edit", c.pk),
        lambda c: url("comment-hide", c.pk),
        lambda c: url("group-create", "osd"),
    ],
    ids=["draft-edit", "comment-edit", "comment-hide", "group-create"],
)
def test_form_pages_answer_only_get_and_post(page, client, olga, draft, draft_comment):
    client.force_login(olga)

    assert client.put(page(draft_comment)).status_code == 405
    assert client.delete(page(draft_comment)).status_code == 405
