"""The Django admin bypasses nothing: a superuser can read the records but change none of them there.

Every change to drafts, groups, ballots, grants, votes, disputes, conflicts and comments goes through the
services, which write the audit event; the admin offers only definitions (audited too) and
accounts. A model registered later without being read-only fails
`test_no_record_of_plenary_can_be_added_changed_or_deleted_in_the_admin`.
"""

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from audit.models import AuditEvent
from deliberation.models import Definition
from tests.factories import UserFactory

PLENARY_APPS = {"audit", "deliberation", "votes", "analysis"}
# Set up in the admin on purpose: definitions (audited by DefinitionAdmin) and the site's accounts.
WRITABLE = {"deliberation.definition"}


def plenary_models():
    return sorted(
        (model for model in admin.site._registry if model._meta.app_label in PLENARY_APPS),
        key=lambda model: model._meta.label_lower,
    )


@pytest.fixture
def root(db) -> Client:
    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def admin_url(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


def test_every_record_that_matters_is_registered_read_only():
    labels = {model._meta.label_lower for model in plenary_models()}

    assert {"audit.auditevent", "votes.vote", "votes.vetogrant", "votes.dispute", "votes.ballot"} <= labels
    assert "votes.conflictdeclaration" in labels
    assert {"deliberation.draftversion", "deliberation.component", "deliberation.membership"} <= labels


@pytest.mark.parametrize(
    "model", [m for m in plenary_models() if m._meta.label_lower not in WRITABLE], ids=lambda m: m._meta.label_lower
)
@pytest.mark.slow
def test_no_record_of_plenary_can_be_added_changed_or_deleted_in_the_admin(model, root, world):
    instance = model.objects.first()
    assert instance is not None, f"the world holds no {model._meta.label}"
    events = AuditEvent.objects.count()
    rows = model.objects.count()

    assert root.get(admin_url(model, "changelist")).status_code == 200
    assert root.get(admin_url(model, "add")).status_code == 403
    assert root.post(admin_url(model, "add"), {}).status_code == 403
    assert root.post(admin_url(model, "delete", instance.pk), {"post": "yes"}).status_code == 403
    change = root.get(admin_url(model, "change", instance.pk))
    assert change.status_code == 200 and b'name="_save"' not in change.content
    assert root.post(admin_url(model, "change", instance.pk), {}).status_code == 403
    bulk = root.post(
        admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [instance.pk], "post": "yes"}
    )
    assert bulk.status_code in (200, 302)

    assert model.objects.count() == rows
    assert AuditEvent.objects.count() == events


@pytest.fixture
def world(open_ballot, olga, bob, published, group):
    """One of each record: a ballot with a vote, a grant, a dispute, a declared conflict, a comment, a stored outcome
    run and a draft's revision."""
    from deliberation import services as deliberation
    from votes import services

    ballot = open_ballot
    choices = {c.key: c for c in ballot.choices.all()}
    code = published.components.get(key="code")
    services.cast_vote(
        ballot=ballot, voter=bob, component=code, criterion=ballot.criteria.get(key="use"), choice=choices["required"]
    )
    services.grant_veto(ballot=ballot, choice=choices["not-necessary"], group=group, reason="Charter", acting_user=olga)
    services.raise_dispute(ballot=ballot, raised_by=bob, voter=bob, reason="Cast in haste")
    services.declare_conflict(ballot=ballot, member=bob, component=code, statement="I maintain a framework.")
    deliberation.post_comment(author=bob, version=published, body="A first remark.")
    deliberation.start_draft(definition=published.definition, label="0.1", based_on=published, acting_user=olga)
    return ballot


def test_the_admin_sign_in_goes_through_the_site_s_rate_limited_sign_in(client, db):
    UserFactory(username="root", password="right-password", is_staff=True, is_superuser=True)

    page = client.get("/admin/login/?next=/admin/")
    tried = client.post("/admin/login/?next=/admin/", {"username": "root", "password": "right-password"})

    assert page.status_code == 302 and page["Location"].startswith(reverse("account_login"))
    assert tried.status_code == 302 and "_auth_user_id" not in client.session  # the admin's own form is gone


def test_a_definition_s_slug_cannot_be_renamed_in_the_admin(root, world, published):
    definition = published.definition
    form = root.get(admin_url(definition, "change", definition.pk))
    posted = root.post(
        admin_url(definition, "change", definition.pk),
        {"title": definition.title, "slug": "renamed", "organizers": [u.pk for u in definition.organizers.all()]},
    )

    definition.refresh_from_db()
    assert b'name="slug"' not in form.content
    assert posted.status_code in (200, 302) and definition.slug != "renamed"


def test_a_handle_cannot_be_renamed_in_the_admin(root, world, bob):
    form = root.get(admin_url(bob, "change", bob.pk))
    root.post(admin_url(bob, "change", bob.pk), {"username": "mallory", "date_joined_0": "2026-01-01"})

    bob.refresh_from_db()
    assert form.status_code == 200 and b'name="username"' not in form.content
    assert bob.username == "bob"


def test_a_definition_set_up_in_the_admin_is_recorded_by_the_services_the_pages_use(root, olga, bob):
    added = root.post(
        admin_url(Definition, "add"),
        {"title": "Open Data Definition", "slug": "odd", "summary": "", "organizers": [olga.pk], "created_at": "x"},
    )
    definition = Definition.objects.get(slug="odd")
    changed = root.post(
        admin_url(definition, "change", definition.pk),
        {"title": "Open Data", "summary": "Data.", "organizers": [olga.pk, bob.pk]},
    )

    definition.refresh_from_db()
    events = AuditEvent.objects.filter(stream=definition.audit_stream).order_by("seq")
    assert added.status_code == changed.status_code == 302
    assert [(e.action, e.actor_handle, e.payload) for e in events] == [
        ("definition.created", "root", {"slug": "odd", "title": "Open Data Definition", "organizers": ["olga"]}),
        ("definition.changed", "root", {"slug": "odd", "title": "Open Data", "organizers": ["bob", "olga"]}),
    ]
    assert (definition.title, definition.summary) == ("Open Data", "Data.")
    assert set(definition.organizers.all()) == {bob, olga}
