"""Who may see and do what: every URL of Plenary, as seven personas, against the table in
permission_table.py, where the rule, the personas and what each status promises are written.

The world (built once per module by `_world_once`; each test rolls back what it wrote): version 0.0.9 is
published and 0.0.10 is a draft in progress, with a component and a discussion of its own; bob has
commented on 0.0.9 and one of his comments is hidden. Ballot `components` is open with live results, a
veto grant, votes and a dispute; `secret` is open and sealed until it closes; `closed` has closed, with
its own grant and dispute; `scheduled` has not opened. Oscar's definition `other` has the same kinds of
things, so that each id or key of his can be tried at an address of `osd`.

Each request of the table is sent in a transaction that is rolled back (`send`), so every request
meets the same world, and what it answered and wrote is judged against the table (`judge`).
"""

import copy
import functools
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.apps import apps
from django.core import mail
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import Client, TestCase
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from analysis import decisions
from analysis import services as analysis
from audit import tlog
from audit.models import AuditEvent
from deliberation import services as deliberation
from notifications import services as notifications
from notifications import webhooks
from notifications.models import Event, Webhook, WebhookDelivery
from tests.client import HTMX
from tests.conftest import make_definition, make_draft, make_group, make_other_group, make_persona, make_published
from tests.factories import (
    ComponentFactory,
    DefinitionFactory,
    DraftRevisionFactory,
    DraftVersionFactory,
    UserFactory,
    WorkingGroupFactory,
)
from tests.votes.conftest import CHOICES, CRITERIA
from tokens import services as tokens
from tokens.models import AccessToken, Scope
from votes import services as votes
from votes.models import Ballot

from .permission_table import (
    DRAFT_COMMENT,
    DRAFT_COMPONENT,
    DRAFT_TEXT,
    FOREIGN_PREFIXES,
    HIDDEN_COMMENT,
    LOGIN,
    OTHER_DRAFT_TEXT,
    PERSONAS,
    SEALED_RATIONALE,
    SECRETS,
    TABLE,
    UNSIGNED,
    WEBHOOK_SECRET,
    WEBHOOK_URL,
    Case,
    Done,
)

# The world ----------------------------------------------------------------------------------------


def _ballot(version, key: str, groups: list, olga, **kwargs) -> Ballot:
    return votes.create_ballot(
        version=version,
        key=key,
        title=key.title(),
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
        **kwargs,
    )


def _vote(ballot: Ballot, voter, component: str, choice: str, rationale: str = "") -> None:
    votes.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key=choice),
        rationale=rationale,
    )


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The world, built once per module in a transaction that each test's own nests in and rolls back to
    (as Django's TestCase.setUpTestData does); rolled back after the module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        olga, alice, bob, carol, dave = (make_persona(name) for name in ("olga", "alice", "bob", "carol", "dave"))
        published = make_published(make_definition(olga))
        draft = make_draft(olga, published)
        group, other_group = make_group(published.definition, alice, bob), make_other_group(published.definition, dave)
        yield _build_world(olga, alice, bob, carol, dave, published, draft, group, other_group)
        transaction.set_rollback(True)


@pytest.fixture
def world(db, _world_once) -> SimpleNamespace:
    """Everything the table visits; see the module's docstring. A copy per test, as setUpTestData's, so that
    what one test changes in these objects (not in the database, which each test rolls back) no other sees."""
    return copy.deepcopy(_world_once)


def _build_world(olga, alice, bob, carol, dave, published, draft, group, other_group) -> SimpleNamespace:
    oscar = UserFactory(username="oscar", first_name="Oscar", last_name="Elsewhere")
    erin = UserFactory(username="erin", first_name="Erin", last_name="Former")
    w = SimpleNamespace(published=published, draft=draft, weights=group, corpora=other_group)
    w.users = {"carol": carol, "dave": dave, "bob": bob, "alice": alice, "oscar": oscar, "olga": olga}

    DraftRevisionFactory(version=published)  # its text, kept as the migration keeps a version's made before revisions
    # The draft in progress: its text, a component and a discussion only the organizers see.
    deliberation.update_draft(version=draft, label="0.0.10", body=DRAFT_TEXT, acting_user=olga)
    deliberation.add_component(
        version=draft,
        fields={"key": "draft-only", "title": "Evaluation data", "category": "Data", "description": DRAFT_COMPONENT},
        acting_user=olga,
    )
    w.draft_comment = deliberation.post_comment(author=olga, version=draft, body=DRAFT_COMMENT)
    w.comment = deliberation.post_comment(author=bob, version=published, body="Training *code* should be required.")
    w.hidden_comment = deliberation.post_comment(author=bob, version=published, body=HIDDEN_COMMENT)
    deliberation.hide_comment(comment=w.hidden_comment, reason="Off topic.", acting_user=olga)

    # The roster: erin was in weights once; bob and dave are in now. Erin asks to come back.
    former = deliberation.add_member(group=group, user=erin, acting_user=olga)
    w.former_membership = deliberation.remove_member(membership=former, acting_user=olga)
    w.bobs_membership = group.memberships.current().get(user=bob)
    w.alices_membership = group.memberships.current().get(user=alice)
    w.join_request = deliberation.request_to_join(group=group, user=erin, note="Back from leave.")

    # A second organizer, otto; invitations to weights: one to carol's address, one revoked.
    w.otto = UserFactory(username="otto")
    deliberation.add_organizer(definition=group.definition, user=w.otto, acting_user=olga)
    # Two suggestions on the draft: otto's, pending; olga's, accepted and waiting to be consolidated.
    w.suggestion = deliberation.suggest_change(
        version=draft, line_from=1, line_to=1, replacement="Other wording.", reason="Clearer.", author=w.otto
    )
    w.accepted_suggestion = deliberation.suggest_change(
        version=draft, line_from=1, line_to=1, replacement="Better wording.", reason="Shorter.", author=olga
    )
    deliberation.decide_suggestion(suggestion=w.accepted_suggestion, accept=True, acting_user=olga)
    w.oscar = oscar
    with TestCase.captureOnCommitCallbacks(execute=True):  # the invitations' mails
        w.invitation = deliberation.invite_member(
            group=group, email="someone@example.org", site_url="http://testserver", acting_user=alice
        )
        deliberation.invite_member(group=group, email=carol.email, site_url="http://testserver", acting_user=alice)
        revoked = deliberation.invite_member(
            group=group, email="gone@example.org", site_url="http://testserver", acting_user=olga
        )
        deliberation.revoke_invitation(invitation=revoked, acting_user=olga)
    w.carols_token, w.revoked_token = (_token(mail.outbox[-2]), _token(mail.outbox[-1]))
    w.daves_membership = other_group.memberships.current().get(user=dave)
    # Bob's calendar address, made twice: the first no longer works.
    w.bobs_old_calendar = deliberation.create_calendar_token(user=bob)
    w.bobs_calendar = deliberation.create_calendar_token(user=bob)
    _make_api_tokens(w)

    # Olga's webhook, told of every event from here on; its secret and the token in its address are hers alone.
    w.webhook = webhooks.add_webhook(
        definition=group.definition, url=WEBHOOK_URL, events=list(Event.values), acting_user=olga
    )
    Webhook.objects.filter(pk=w.webhook.pk).update(secret=WEBHOOK_SECRET)

    # Ballots: open and live, sealed, closed, scheduled.
    w.components = votes.open_ballot(
        ballot=_ballot(published, "components", [group, other_group], olga), acting_user=olga
    )
    w.grant = votes.grant_veto(
        ballot=w.components,
        choice=w.components.choices.get(key="not-necessary"),
        group=group,
        reason="Charter §3.",
        acting_user=olga,
    )
    _vote(w.components, bob, "code", "required", "Nobody studies a model without its code.")
    _vote(w.components, alice, "data", "not-necessary")
    _vote(w.components, dave, "code", "abstain")
    w.dispute = votes.raise_dispute(
        ballot=w.components, raised_by=bob, reason="A veto in disguise.", voter=dave, group=other_group
    )
    w.conflict = votes.declare_conflict(
        ballot=w.components,
        member=bob,
        component=published.components.get(key="code"),
        statement="I maintain a training framework.",
    )

    w.secret = votes.open_ballot(
        ballot=_ballot(
            published, "secret", [group, other_group], olga, results_visibility=Ballot.Visibility.AFTER_CLOSE
        ),
        acting_user=olga,
    )
    w.secret_grant = votes.grant_veto(
        ballot=w.secret,
        choice=w.secret.choices.get(key="not-necessary"),
        member=alice,
        reason="Data steward.",
        acting_user=olga,
    )
    _vote(w.secret, dave, "code", "required", SEALED_RATIONALE)

    closed = votes.open_ballot(
        ballot=_ballot(published, "closed", [group], olga, results_visibility=Ballot.Visibility.AFTER_CLOSE),
        acting_user=olga,
    )
    _vote(closed, bob, "code", "required", "Code first.")
    w.closed_conflict = votes.declare_conflict(ballot=closed, member=bob, statement="Consulting.")
    closed = votes.close_ballot(ballot=closed, acting_user=olga)
    w.closed_dispute = votes.raise_dispute(ballot=closed, raised_by=alice, reason="Too quick.", voter=bob)
    analysis.compute_run(closed)
    w.decision = decisions.record_decision(
        ballot=closed,
        component=published.components.get(key="code"),
        outcome="Yes",
        statement="Code is required.",
        acting_user=olga,
    )
    w.objection = decisions.lodge_objection(decision=w.decision, member=dave, reasoning="Corpora was not heard.")
    analysis.compute_run(closed)  # up to date: a page that reads the outcomes writes no run
    [w.bobs_notification] = notifications.notify(
        [bob], notifications.Message("comment.reply", "reply:world", "A reply", "Agreed.", "/")
    )
    w.unsubscribe_token = notifications.unsubscribe_token(w.bobs_notification)
    notifications.notify(w.users.values(), notifications.Message("followed", "news:world", "News", "Read it.", "/"))
    _ballot(published, "scheduled", [group], olga)

    # Oscar's definition, whose ids and keys are tried at addresses of osd.
    other = DefinitionFactory(slug="other", title="Another Definition")
    other.organizers.add(oscar)
    release = DraftVersionFactory(definition=other, label="2.0")
    ComponentFactory(version=release, key="code", title="Code", category="Code")
    w.other_draft = deliberation.start_draft(definition=other, label="2.1", based_on=release, acting_user=oscar)
    deliberation.update_draft(version=w.other_draft, label="2.1", body=OTHER_DRAFT_TEXT, acting_user=oscar)
    other_draft = w.other_draft
    w.other_draft_comment = deliberation.post_comment(author=oscar, version=other_draft, body="Mine.")
    w.other_suggestion = deliberation.suggest_change(
        version=other_draft, line_from=1, line_to=1, replacement="Theirs.", reason="Why not.", author=oscar
    )
    others = WorkingGroupFactory(definition=other, key="others", name="Others")
    w.other_membership = deliberation.add_member(group=others, user=erin, acting_user=oscar)
    w.other_join_request = deliberation.request_to_join(group=others, user=dave)
    w.other_invitation = deliberation.invite_member(
        group=others, email="theirs@example.org", site_url="http://testserver", acting_user=oscar
    )
    elsewhere = votes.open_ballot(
        ballot=votes.create_ballot(
            version=release,
            key="elsewhere",
            title="Elsewhere",
            groups=[others],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=oscar,
        ),
        acting_user=oscar,
    )
    w.other_grant = votes.grant_veto(
        ballot=elsewhere,
        choice=elsewhere.choices.get(key="not-necessary"),
        group=others,
        reason="Theirs.",
        acting_user=oscar,
    )
    _vote(elsewhere, erin, "code", "required")
    w.other_dispute = votes.raise_dispute(ballot=elsewhere, raised_by=erin, reason="Mine.", voter=erin)
    w.other_conflict = votes.declare_conflict(ballot=elsewhere, member=erin, statement="Theirs.")
    w.other_webhook = webhooks.add_webhook(
        definition=other, url="https://93.184.215.14/theirs", events=list(Event.values), acting_user=oscar
    )
    w.other_delivery = webhooks.emit(other, Event.BALLOT_OPENED, {"ballot": elsewhere.as_announced()})[0]
    # The webhook's first delivery (of the `components` ballot opening), as it stands after its last attempt failed.
    w.delivery = w.webhook.deliveries.order_by("pk").first()
    WebhookDelivery.objects.filter(pk=w.delivery.pk).update(status=WebhookDelivery.Status.FAILED, next_attempt_at=None)

    # The log signs each stream's head, as the sequencer does after each batch: reading a checkpoint writes nothing.
    for stream in AuditEvent.objects.values_list("stream", flat=True).distinct():
        tlog.sign_checkpoint(stream)

    return w


def _make_api_tokens(w: SimpleNamespace) -> None:
    """Each persona's API tokens, by what they may write: `read` (nothing), `all` (every scope), and for each scope
    a token with every scope but that one (`but-vote`, …); bob's read-only one is `api_token`. And tokens that let
    nobody in: bob's revoked one, his expired one, and one Plenary never made."""
    w.api_tokens = {}
    for persona, user in w.users.items():
        kinds = {"read": [], "all": Scope.values} | {f"but-{s}": [o for o in Scope.values if o != s] for s in Scope}
        w.api_tokens[persona] = {
            kind: tokens.create_token(user=user, name=f"{persona} {kind}", scopes=scopes)[1]
            for kind, scopes in kinds.items()
        }
    w.api_token = AccessToken.objects.get(name="bob read")
    revoked, w.revoked_api_token = tokens.create_token(user=w.users["bob"], name="revoked", scopes=Scope.values)
    tokens.revoke_token(token=revoked, acting_user=w.users["bob"])
    expired, w.expired_api_token = tokens.create_token(
        user=w.users["bob"], name="expired", scopes=Scope.values, expires_at=timezone.now() + timedelta(days=1)
    )
    AccessToken.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    w.unknown_api_token = "plenary_0123456789ab_" + "A" * 43


def _token(message) -> str:
    """The token of the invitation link an e-mail carries."""
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


# Visiting -----------------------------------------------------------------------------------------

WATCHED_TABLES = sorted(
    model._meta.db_table
    for label in ("audit", "deliberation", "votes", "analysis", "notifications", "tokens", "auth", "account")
    for model in apps.get_app_config(label).get_models(include_auto_created=True)
)


def snapshot(ignore: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row Plenary keeps (sessions aside), to compare before and after a request; `ignore`: columns
    (table.column) left out, such as when a token was last used, which every request made with it may note."""
    rows = {}
    with connection.cursor() as cursor:
        for table in WATCHED_TABLES:
            cursor.execute(f"SELECT {_columns(table, ignore)} FROM {connection.ops.quote_name(table)} ORDER BY 1")
            rows[table] = cursor.fetchall()
    return rows


@functools.cache
def _columns(table: str, ignore: tuple[str, ...]) -> str:
    """The table's columns but those ignored, for a SELECT; `*` when none is."""
    ignored = {column for name in ignore for t, column in [name.split(".")] if t == table}
    if not ignored:
        return "*"
    with connection.cursor() as cursor:
        described = connection.introspection.get_table_description(cursor, table)
    return ", ".join(connection.ops.quote_name(c.name) for c in described if c.name not in ignored)


def body_of(response) -> str:
    """What the answer shows: its text, or the text of every file in a zip."""
    content = b"".join(response.streaming_content) if response.streaming else response.content
    if content[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(content)) as bundle:
            content = b"\n".join(bundle.read(name) for name in bundle.namelist())
    return content.decode("utf-8", errors="replace")


def sent_to_sign_in(response) -> bool:
    """A redirect to the sign-in page that comes back here afterwards."""
    if response.status_code != 302:
        return False
    target = urlsplit(response["Location"])
    here = response.wsgi_request.get_full_path()
    return target.path == reverse("account_login") and parse_qs(target.query).get("next") == [here]


@dataclass(frozen=True)
class Sent:
    """A request and what it did: its answer (or the exception it raised), and the tables it changed."""

    response: HttpResponse | None
    error: Exception | None
    written: list[str]
    audited: int


def changes() -> int:
    """A count this connection's writes raise (rows inserted, updated or deleted, in any table, even undone)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_all_tables")
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def send(
    client: Client,
    method: str,
    path: str,
    data: dict | None = None,
    headers: dict | None = None,
    ignore: tuple[str, ...] = (),
) -> Sent:
    """Send one request and undo whatever it did, so that every request meets the same world. The JSON API is
    posted JSON, the pages a form.

    What it wrote is found by comparing every watched row after it with every row once it is undone; a request
    that touched no row at all (the database's own count of changes says so) needs no comparison.
    """
    with transaction.atomic():
        counted = changes()
        before_request = transaction.savepoint()
        response, error = None, None
        try:
            if method == "GET":
                response = client.get(path, headers=headers)
            elif path.startswith("/api/"):
                response = client.post(path, json.dumps(data or {}), content_type="application/json", headers=headers)
            else:
                response = client.post(path, data or {}, headers=headers)
        except Exception as exc:  # noqa: BLE001 - a 500 is a finding like any other
            error = exc
        written, audited = [], 0
        if error is None and changes() != counted:
            after = snapshot(ignore)
            transaction.savepoint_rollback(before_request)
            before = snapshot(ignore)
            written = sorted(table for table in before if before[table] != after[table])
            audit = AuditEvent._meta.db_table
            audited = len(after[audit]) - len(before[audit])
        transaction.set_rollback(True)
    return Sent(response, error, written, audited)


def judge(sent: Sent, expected, where: str, persona: str, says: str = "") -> list[str]:
    """What is wrong with an answer, if anything, given what the table expects."""
    if sent.error is not None:
        return [f"{where}: raised {sent.error!r}, expected {expected}"]
    response, problems = sent.response, []
    if expected == LOGIN:
        if not sent_to_sign_in(response):
            problems.append(f"{where}: {response.status_code}, expected to be sent to sign in")
    elif isinstance(expected, Done):
        recorded = sent.audited >= 1 if expected.audited else sent.audited == 0 and bool(sent.written)
        if response.status_code != expected.status or not recorded:
            problems.append(f"{where}: {response.status_code} with {sent.audited} audit events, expected {expected}")
    elif response.status_code != expected:
        problems.append(f"{where}: {response.status_code}, expected {expected}")
    if sent.written and not isinstance(expected, Done):
        problems.append(f"{where}: wrote to {', '.join(sent.written)} though it was to do nothing")
    content = body_of(response)
    if says and response.status_code == 200 and says not in content:
        problems.append(f"{where}: does not say {says!r}")
    shown = re.sub(r"</?mark>", "", content)  # a search's snippet marks each match: the text is read without them
    for text, readers in SECRETS.items():
        if persona not in readers and text in shown:
            problems.append(f"{where}: shows {text!r}, which only {', '.join(sorted(readers))} may read")
    return problems


def visit(client: Client, w: SimpleNamespace, case: Case, persona: str, method: str, headers=None) -> list[str]:
    """Send one request of the table and return what is wrong with its answer, if anything."""
    expected = (case.get if method == "GET" else case.post)[PERSONAS.index(persona)]
    path = case.path(w)
    headers = (HTMX if case.htmx else {}) if headers is None else headers
    sent = send(client, method, path, case.form(w) if method == "POST" else None, headers)
    return judge(sent, expected, f"{method} {path} ({case}) as {persona}", persona, case.says)


def signed_in_client(persona: str, w: SimpleNamespace, **kwargs) -> Client:
    client = Client(**kwargs)
    if persona != "anonymous":
        client.force_login(w.users[persona])
    return client


# The rules --------------------------------------------------------------------------------------


def routes() -> list[tuple[str, str, Callable]]:
    """Every route of config.urls: its name (namespaced), its address and its view."""

    def walk(patterns, prefix: str = "", namespace: str = ""):
        for pattern in patterns:
            address = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from walk(pattern.url_patterns, address, inner)
            elif isinstance(pattern, URLPattern):
                name = f"{namespace}{pattern.name}" if pattern.name else f"(unnamed) {address}"
                yield name, address, pattern.callback

    return list(walk(get_resolver().url_patterns))


def plenary_routes() -> list[tuple[str, str]]:
    """Every (name, address) of config.urls but Django's admin and allauth's accounts."""
    return [(name, address) for name, address, _ in routes() if not address.startswith(FOREIGN_PREFIXES)]


def test_every_route_has_an_entry_in_the_table():
    names = [name for name, _ in plenary_routes()]
    assert len(names) == len(set(names)), "each route has a name of its own"

    assert set(names) - {c.route for c in TABLE} == set(), "routes with no entry in the table"
    assert {c.route for c in TABLE} - set(names) == set(), "entries in the table for no route"


def test_every_route_is_visited_with_get():
    assert {c.route for c in TABLE} == {c.route for c in TABLE if c.get is not None}


def test_every_route_that_takes_an_id_is_tried_with_ids_that_are_not_its_own():
    with_ids = {name for name, address in plenary_routes() if "<int:" in address}

    assert with_ids, "the routes that take an integer id"
    assert with_ids - {c.route for c in TABLE if c.guessed} == set()


def test_a_guessed_id_or_key_is_404_to_all_but_the_organizers_it_belongs_to():
    for case in (c for c in TABLE if c.guessed):
        for expected in (case.get, case.post):
            if expected is not None:
                allowed = {p for p, e in zip(PERSONAS, expected, strict=True) if e not in (404, LOGIN, UNSIGNED)}
                assert allowed <= {"olga"} or allowed <= {"oscar"}, case


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_url_answers_each_persona_as_the_table_says(persona, world):
    client = signed_in_client(persona, world)
    problems = []
    for case in TABLE:
        for method, expected in (("GET", case.get), ("POST", case.post)):
            if expected is not None:
                problems += visit(client, world, case, persona, method)

    assert problems == [], "\n".join(problems)


def test_the_admin_is_for_superusers_only(world):
    for persona in PERSONAS:
        response = signed_in_client(persona, world).get(reverse("admin:index"))

        assert response.status_code == 302, persona
        assert urlsplit(response["Location"]).path == reverse("admin:login"), persona

    client = Client()
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert client.get(reverse("admin:index")).status_code == 200
