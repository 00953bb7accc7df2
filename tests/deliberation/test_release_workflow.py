"""The organizer's release workflow through its pages: start a draft, edit its text and components, publish
it, start the next.

olga organizes the definition `osd`; alice chairs its group `weights`, where bob is a member; carol is
signed in but belongs to nothing; an anonymous observer is not signed in. `published` is version 0.0.9
(components code, data, and all-data = mean of data); `draft` is 0.0.10, started from it.
"""

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import DraftVersion
from tests.client import form_data, page_messages
from tests.deliberation.pages import ORGANIZER_PAGES, url


def test_organizer_drafts_and_publishes_a_release_then_starts_the_next(client, olga, definition):
    client.force_login(olga)

    response = client.post(url("draft-start", "osd"), {"label": "0.1"})
    assert response.status_code == 302
    assert response.url == url("draft-edit", "osd", "0.1")

    editor = client.get(url("draft-edit", "osd", "0.1"))
    response = client.post(
        url("draft-edit", "osd", "0.1"), form_data(editor, label="0.1", body="# Preamble\n\nOpen means *free*.")
    )
    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.1")

    for key, title, category in [("code", "Training code", "Code"), ("data", "Training data", "Data")]:
        response = client.post(
            url("component-create", "osd", "0.1"),
            {"key": key, "title": title, "new_category": category, "description": "", "aggregate_rule": ""},
        )
        assert response.status_code == 302
        assert response.url == url("version", "osd", "0.1") + f"#component-{key}"
    version = DraftVersion.objects.get(label="0.1")
    parts = [c.pk for c in version.components.all()]
    response = client.post(
        url("component-create", "osd", "0.1"),
        {"key": "everything", "title": "Everything", "category": "Data", "aggregate_rule": "sum", "parts": parts},
    )
    assert response.status_code == 302
    assert sorted(version.components.get(key="everything").parts.values_list("key", flat=True)) == ["code", "data"]

    page = client.get(url("version", "osd", "0.1")).content.decode()
    assert "draft in progress" in page
    assert "<em>free</em>" in page
    assert "sum of code, data" in page

    response = client.get(url("publish", "osd", "0.1"))
    assert response.status_code == 200
    response = client.post(url("publish", "osd", "0.1"), form_data(response, release_notes="The *first* release."))
    assert response.status_code == 302
    assert response.url == url("version", "osd", "0.1")

    page = client.get(url("version", "osd", "0.1")).content.decode()
    assert 'class="badge published"' in page
    assert "<em>first</em> release" in page
    assert "draft in progress" not in page
    for edit_page in ORGANIZER_PAGES.values():
        assert client.get(edit_page("0.1")).status_code == 403
    assert 'value="0.2"' in page  # the next label is suggested

    response = client.post(url("draft-start", "osd"), {"from": "0.1", "label": "0.2"})
    assert response.status_code == 302
    assert response.url == url("draft-edit", "osd", "0.2")
    page = client.get(url("version", "osd", "0.2")).content.decode()
    assert "started from 0.1" in page
    assert "Training code" in page and "Training data" in page and "sum of code, data" in page

    assert list(AuditEvent.objects.values_list("action", flat=True)) == [
        "draft.started",
        "draft.edited",
        "component.added",
        "component.added",
        "component.added",
        "release.published",
        "draft.started",
    ]
    assert set(AuditEvent.objects.values_list("actor_handle", flat=True)) == {"olga"}


def test_organizer_edits_and_removes_a_component_of_the_draft(client, olga, draft):
    client.force_login(olga)

    response = client.post(
        url("component-edit", "osd", "0.0.10", "code"),
        {"key": "code", "title": "Code used for training", "category": "Code", "description": "", "aggregate_rule": ""},
    )
    assert response.status_code == 302
    assert draft.components.get(key="code").title == "Code used for training"

    response = client.post(url("component-remove", "osd", "0.0.10", "code"))
    assert response.status_code == 302
    assert not draft.components.filter(key="code").exists()
    assert list(AuditEvent.objects.filter(seq__gt=1).values_list("action", flat=True)) == [
        "component.changed",
        "component.removed",
    ]


def test_removing_a_part_of_an_aggregate_says_why_it_cannot(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("component-remove", "osd", "0.0.10", "data"), follow=True)

    assert "data is a part of all-data; remove it there first." in page_messages(response)


def test_an_invalid_component_form_shows_the_error_and_saves_nothing(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(
            url("component-create", "osd", "0.0.10"),
            {"key": "agg", "title": "Aggregate", "category": "Data", "aggregate_rule": "sum"},
        )

    assert response.status_code == 200
    assert b"An aggregate needs at least one part." in response.content


def test_publishing_without_release_notes_is_refused(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        page = client.get(url("publish", "osd", "0.0.10"))
        response = client.post(url("publish", "osd", "0.0.10"), form_data(page, release_notes="  "))

    assert response.status_code == 200
    assert b"This field is required." in response.content


def test_the_publish_page_lists_the_component_changes_since_the_previous_release(client, olga, draft):
    services.add_component(
        version=draft, fields={"key": "docs", "title": "Docs", "category": "Documentation"}, acting_user=olga
    )
    client.force_login(olga)

    response = client.get(url("publish", "osd", "0.0.10"))

    assert b"<code>docs</code> added" in response.content


def test_a_second_draft_cannot_be_started_while_one_is_open(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("draft-start", "osd"), {"from": "0.0.9", "label": "0.0.11"}, follow=True)

    assert any("already has a draft in progress" in m for m in page_messages(response))
