"""A draft never loses text: every save is kept as a revision, readable and diffable, and a save from a stale
editor is refused with both texts kept."""

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.test import Client

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import DraftRevision, DraftVersion
from tests.client import form_data, page_messages, table_rows, text
from tests.deliberation.pages import their_text, url
from tests.factories import DraftVersionFactory, UserFactory
from tests.votes.test_concurrency import on_postgresql, run_together


@pytest.fixture
def pia(definition):
    """A second organizer of `osd`, editing the same draft as olga."""
    user = UserFactory(username="pia", first_name="Pia", last_name="Organizer")
    definition.organizers.add(user)
    return user


def revisions_of(version: DraftVersion) -> list[tuple[int, str, str | None]]:
    return [(r.number, r.body, r.author.username if r.author else None) for r in version.revisions.order_by("number")]


# The service -----------------------------------------------------------------------------------


def test_a_draft_starts_with_its_text_as_revision_1_and_each_save_keeps_the_next(draft, olga, pia, published):
    services.update_draft(version=draft, label="0.0.10", body="Olga's wording.", acting_user=olga, started_from=1)
    services.update_draft(version=draft, label="0.0.10-rc1", body="Pia's wording.", acting_user=pia, started_from=2)

    assert revisions_of(draft) == [
        (1, published.body, "olga"),
        (2, "Olga's wording.", "olga"),
        (3, "Pia's wording.", "pia"),
    ]
    assert draft.revisions.get(number=3).label == "0.0.10-rc1"
    edits = AuditEvent.objects.filter(action="draft.edited").order_by("seq")
    assert [(e.actor_handle, e.payload["revision"]) for e in edits] == [("olga", 2), ("pia", 3)]


def test_a_save_started_from_an_older_revision_is_refused_and_writes_nothing(draft, olga, pia, nothing_written):
    services.update_draft(version=draft, label="0.0.10", body="Olga's wording.", acting_user=olga, started_from=1)

    with nothing_written(), pytest.raises(services.StaleDraft) as refused:
        services.update_draft(version=draft, label="0.0.10", body="Pia's wording.", acting_user=pia, started_from=1)

    assert refused.value.current.number == 2
    assert "saved by @olga after you opened it" in refused.value.messages[0]
    assert DraftVersion.objects.get(pk=draft.pk).body == "Olga's wording."


def test_a_refused_editor_writes_no_revision(draft, bob, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        services.update_draft(version=draft, label="0.0.10", body="Vandalised", acting_user=bob, started_from=1)


def test_a_draft_made_without_revisions_takes_its_first_save_as_revision_1(definition, olga):
    version = DraftVersionFactory(definition=definition, label="0.1", status="draft", published_at=None)

    services.update_draft(version=version, label="0.1", body="First words.", acting_user=olga, started_from=0)

    assert revisions_of(version) == [(1, "First words.", "olga")]


def test_the_migration_keeps_the_text_of_every_existing_version_as_its_first_revision(published, definition):
    draft = DraftVersionFactory(definition=definition, label="0.0.10", status="draft", published_at=None, body="WIP")
    migration = importlib.import_module("deliberation.migrations.0005_draft_revisions")

    migration.keep_first_revisions(apps, None)
    migration.keep_first_revisions(apps, None)  # run twice, it keeps them once

    assert revisions_of(published) == [(1, published.body, None)]
    assert revisions_of(draft) == [(1, "WIP", None)]
    assert published.revisions.get().saved_at == published.published_at


# Two organizers in the editor --------------------------------------------------------------------


def test_two_organizers_save_the_same_draft_and_the_second_is_refused_with_both_texts_kept(client, olga, pia, draft):
    """olga and pia open the editor at the same revision; olga saves first, then pia."""
    olgas, pias = client, Client()
    olgas.force_login(olga)
    pias.force_login(pia)
    edit = url("draft-edit", "osd", "0.0.10")
    olgas_editor, pias_editor = olgas.get(edit), pias.get(edit)

    saved = olgas.post(edit, form_data(olgas_editor, label="0.0.10", body="Line one.\nOlga's line.\n"))
    assert saved.status_code == 302
    events = AuditEvent.objects.count()
    refused = pias.post(edit, form_data(pias_editor, label="0.0.10", body="Line one.\nPia's line.\n"))

    assert refused.status_code == 200
    page = text(refused)
    assert "was saved by @olga after you opened it (revision 2), so your text was not saved" in page
    assert their_text(refused) == "Line one.\nOlga's line."
    assert ["2", "Olga's line.", "2", "Pia's line."] in table_rows(refused, "diff side")
    form = refused.context["form"]
    assert form["body"].value().strip() == "Line one.\nPia's line."  # hers, still in the form
    assert form["revision"].value() == "2"  # saving again now starts from olga's revision
    # nothing written by the refused save: olga's text stands, with no revision or event of pia's
    assert DraftVersion.objects.get(pk=draft.pk).body == "Line one.\nOlga's line."
    assert revisions_of(draft)[-1][2] == "olga" and draft.revisions.count() == 2
    assert AuditEvent.objects.count() == events

    merged = pias.post(edit, form_data(refused, label="0.0.10", body="Line one.\nOlga's line.\nPia's line.\n"))

    assert merged.status_code == 302
    assert revisions_of(draft)[-1] == (3, "Line one.\nOlga's line.\nPia's line.", "pia")


def test_the_editor_carries_the_revision_it_started_from(client, olga, draft):
    services.update_draft(version=draft, label="0.0.10", body="Again.", acting_user=olga)
    client.force_login(olga)

    assert form_data(client.get(url("draft-edit", "osd", "0.0.10")))["revision"] == "2"


def test_a_save_that_names_no_revision_is_refused_and_says_so(client, olga, draft, nothing_written):
    client.force_login(olga)

    with nothing_written():
        response = client.post(url("draft-edit", "osd", "0.0.10"), {"label": "0.0.10", "body": "From nowhere."})

    assert response.status_code == 200
    assert "does not say which revision it started from; open the editor again" in text(response)


# The revisions pages --------------------------------------------------------------------------------


@pytest.fixture
def edited(draft, olga, pia):
    services.update_draft(version=draft, label="0.0.10", body="# Preamble\n\nOpen means free.\n", acting_user=olga)
    services.update_draft(version=draft, label="0.0.10", body="# Preamble\n\nOpen means libre.\n", acting_user=pia)
    return draft


def test_organizers_list_the_revisions_of_a_draft_and_see_the_last_change(client, olga, edited):
    client.force_login(olga)

    response = client.get(url("revisions", "osd", "0.0.10"))

    assert response.status_code == 200
    rows = table_rows(response, "revisions")
    assert [row[2:3] + row[4:] for row in rows] == [
        ["3", "@pia", "0.0.10"],
        ["2", "@olga", "0.0.10"],
        ["1", "@olga", "0.0.10"],
    ]
    assert ["3", "Open means free.", "3", "Open means libre."] in table_rows(response, "diff side")


def test_any_two_revisions_are_compared_side_by_side_or_inline(client, olga, edited, published):
    client.force_login(olga)

    side = client.get(url("revisions", "osd", "0.0.10"), {"from": "1", "to": "3"})
    inline = client.get(url("revisions", "osd", "0.0.10"), {"from": "1", "to": "3", "view": "inline"})

    assert "From revision 1 to revision 3" in text(side)
    assert ["3", "Open means libre."] == [c for c in table_rows(side, "diff side")[-1] if c][-2:]
    assert ["", "3", "+", "Open means libre."] in table_rows(inline, "diff inline")


def test_a_revision_that_does_not_exist_is_said_so(client, olga, edited):
    client.force_login(olga)

    response = client.get(url("revisions", "osd", "0.0.10"), {"from": "1", "to": "9"})

    assert response.status_code == 200
    assert "That revision does not exist here; choose two revisions from the list." in page_messages(response)


def test_one_revision_shows_its_whole_text(client, olga, edited):
    client.force_login(olga)

    response = client.get(url("revision", "osd", "0.0.10", 2))

    assert response.status_code == 200
    assert "Open means free." in text(response) and "by @olga" in text(response)


@pytest.mark.parametrize("persona", [None, "carol", "bob", "oscar"])
def test_nobody_else_reads_a_drafts_revisions(client, request, persona, edited):
    if persona:
        client.force_login(request.getfixturevalue(persona))

    assert client.get(url("revisions", "osd", "0.0.10")).status_code == 404
    assert client.get(url("revision", "osd", "0.0.10", 2)).status_code == 404


def test_once_published_everyone_reads_and_diffs_the_revisions(client, olga, edited):
    services.publish_version(version=edited, release_notes="Out.", acting_user=olga)

    response = client.get(url("revisions", "osd", "0.0.10"), {"from": "2", "to": "3"})

    assert response.status_code == 200
    assert ["3", "Open means free.", "3", "Open means libre."] in table_rows(response, "diff side")
    assert client.get(url("revision", "osd", "0.0.10", 3)).status_code == 200


def test_the_revisions_list_reads_no_texts_and_a_fixed_number_of_queries(
    client, olga, draft, django_assert_max_num_queries
):
    client.force_login(olga)
    for n in range(2, 12):
        services.update_draft(version=draft, label="0.0.10", body=f"Text {n}.", acting_user=olga)

    with django_assert_max_num_queries(12):
        response = client.get(url("revisions", "osd", "0.0.10"))

    assert len(table_rows(response, "revisions")) == DraftRevision.objects.filter(version=draft).count() == 11


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_organizers_saving_at_the_same_moment_keep_one_save_and_refuse_the_other(draft, olga, pia):
    """On PostgreSQL the two saves really run side by side; the row lock on the version lets one in at a time."""

    def save(who, body):
        return lambda: services.update_draft(version=draft, label="0.0.10", body=body, acting_user=who, started_from=1)

    errors = run_together([save(olga, "Olga's wording."), save(pia, "Pia's wording.")])

    assert len(errors) == 1 and isinstance(errors[0], services.StaleDraft), errors
    kept = revisions_of(draft)
    assert len(kept) == 2 and kept[1][1] == DraftVersion.objects.get(pk=draft.pk).body
    assert AuditEvent.objects.filter(action="draft.edited").count() == 1


@pytest.mark.parametrize("number", ["²", "-1", "1.0", "x", "99999999999999999999"])
def test_a_revision_number_that_is_no_number_here_is_said_so(client, olga, edited, number):
    client.force_login(olga)

    response = client.get(url("revisions", "osd", "0.0.10"), {"from": number, "to": "2"})

    assert response.status_code == 200
    assert "That revision does not exist here; choose two revisions from the list." in page_messages(response)
