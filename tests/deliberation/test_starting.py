"""Starting a definition in the browser, by the accounts DEFINITION_CREATORS allows, and its organizers."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from audit.models import AuditEvent
from deliberation import services
from deliberation.models import Definition
from tests.client import page_messages, text
from tests.deliberation.pages import url
from tests.factories import UserFactory

NEW = {"title": "Open Data Definition", "slug": "odd", "summary": "What open data is."}


def test_a_verified_account_starts_a_definition_and_becomes_its_organizer(client, carol):
    client.force_login(carol)
    assert "New definition" in text(client.get(url("definition-list")))

    response = client.post(url("definition-create"), NEW)

    definition = Definition.objects.get(slug="odd")
    assert response.url == definition.get_absolute_url()
    assert list(definition.organizers.all()) == [carol]
    event = AuditEvent.objects.get(stream=definition.audit_stream)
    assert (event.action, event.actor_handle, event.payload["organizers"]) == ("definition.created", "carol", ["carol"])
    assert "Start the first draft" in text(client.get(definition.get_absolute_url()))


def test_an_account_without_a_verified_address_cannot_start_one(client, nothing_written):
    unverified = UserFactory(username="newbie", verified=False)
    client.force_login(unverified)

    assert "New definition" not in text(client.get(url("definition-list")))
    with nothing_written():
        assert client.post(url("definition-create"), NEW).status_code == 403


def test_when_only_allowed_accounts_may_the_admin_allows_one(client, settings, carol, nothing_written):
    settings.DEFINITION_CREATORS = "allowed"
    client.force_login(carol)

    with nothing_written():
        refused = client.post(url("definition-create"), NEW)
    assert refused.status_code == 403
    assert "administrators can allow it" in text(refused)

    carol.user_permissions.add(Permission.objects.get(codename="add_definition"))
    assert client.post(url("definition-create"), NEW).status_code == 302
    assert Definition.objects.get(slug="odd").is_organizer(carol)


def test_a_taken_short_name_is_refused_on_the_form(client, carol, definition, nothing_written):
    client.force_login(carol)

    with nothing_written():
        response = client.post(url("definition-create"), NEW | {"slug": "osd"})

    assert response.status_code == 200
    assert "already exists" in text(response)


def test_the_service_refuses_a_definition_without_organizers(olga, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="at least one organizer"):
        services.create_definition(slug="odd", title="Odd", organizers=[], acting_user=olga)


def test_an_organizer_adds_and_removes_an_organizer_through_the_page(client, olga, carol, definition):
    client.force_login(olga)

    client.post(url("organizer-add", "osd"), {"username": "@carol"})
    assert definition.is_organizer(carol)
    added = AuditEvent.objects.filter(stream=definition.audit_stream).latest("seq")
    assert (added.action, added.payload) == ("organizer.added", {"organizer": "carol", "organizers": ["carol", "olga"]})

    response = client.post(url("organizer-remove", "osd", carol.pk), follow=True)
    assert not definition.is_organizer(carol)
    assert page_messages(response)[-1] == "@carol no longer organizes Open System Definition."
    removed = AuditEvent.objects.filter(stream=definition.audit_stream).latest("seq")
    assert (removed.action, removed.actor_handle, removed.payload["organizers"]) == (
        "organizer.removed",
        "olga",
        ["olga"],
    )


def test_the_last_organizer_cannot_be_removed(client, olga, definition, nothing_written):
    client.force_login(olga)
    assert "Remove @olga as organizer" not in text(client.get(definition.get_absolute_url()))

    with nothing_written():
        response = client.post(url("organizer-remove", "osd", olga.pk), follow=True)

    assert page_messages(response) == [
        "@olga is the last organizer of Open System Definition: add another organizer first."
    ]


def test_only_organizers_change_the_organizers(alice, carol, definition, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        services.add_organizer(definition=definition, user=carol, acting_user=alice)
    with nothing_written(), pytest.raises(PermissionDenied):
        services.remove_organizer(definition=definition, user=definition.organizers.get(), acting_user=alice)


def test_an_organizer_cannot_be_added_twice(olga, definition, nothing_written):
    with nothing_written(), pytest.raises(ValidationError, match="already organizes"):
        services.add_organizer(definition=definition, user=olga, acting_user=olga)


def test_a_definition_can_be_started_to_be_drafted_in_the_open_on_the_record(client, carol):
    client.force_login(carol)

    client.post(url("definition-create"), NEW | {"drafts_open": "on"})

    definition = Definition.objects.get(slug="odd")
    assert definition.drafts_open
    assert AuditEvent.objects.filter(stream=definition.audit_stream).first().payload["drafts_open"] is True
