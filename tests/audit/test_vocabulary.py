"""The audit vocabulary (`plenary_tally.vocabulary`) is the one list of what the log can say.

Every service records an action named there, in a stream named there, and together they use every
name; the server and the offline verifier agree on which actions set a voter's cell and which clear it.
The personas and `everything` are built once per module (`_world_once`); each test rolls back what it wrote.
"""

from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from analysis import decisions
from analysis import services as analysis
from analysis.auditing import verify_records
from audit.models import AuditEvent
from deliberation import services as deliberation
from deliberation.models import Membership
from notifications import webhooks
from plenary_tally.vocabulary import (
    CLEARS_THE_CELL,
    SETS_THE_CELL,
    VOTE_ACTIONS,
    Action,
    ballot_stream,
    definition_stream,
)
from tests.conftest import from_world, make_persona
from tests.factories import UserFactory
from tests.votes.conftest import CHOICES, CRITERIA, edit_ballot
from tests.votes.replay import replay, stored
from votes import services
from votes.models import Ballot, Dispute, Vote


def _fields(key: str) -> dict:
    return {"key": key, "title": key.title(), "category": "Code", "description": "", "aggregate_rule": ""}


@pytest.fixture(scope="module")
def _world_once(django_db_setup, django_db_blocker) -> Iterator[SimpleNamespace]:
    """The personas as tests/conftest.py builds them and `everything`, once per module in a transaction that each
    test's own nests in and rolls back to (as Django's TestCase.setUpTestData does); rolled back after the
    module's last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        w = SimpleNamespace(**{name: make_persona(name) for name in ("olga", "alice", "bob", "dave")})
        w.everything = make_everything(w.olga, w.alice, w.bob, w.dave)
        yield w
        transaction.set_rollback(True)


olga, alice, bob, dave, everything = from_world("olga", "alice", "bob", "dave", "everything")


def make_everything(olga, alice, bob, dave) -> Ballot:
    """One call of every audited service: a definition's life, then a sealed ballot's from creation to disputes
    (a conflict of interest declared and withdrawn on the way), and the ballot on the next version that carries
    its votes."""
    definition = deliberation.create_definition(
        slug="vocab", title="Vocabulary", organizers=[olga], drafts_open=True, acting_user=olga
    )
    deliberation.update_definition(
        definition=definition, title="The vocabulary", summary="", organizers=[olga], acting_user=olga
    )
    draft = deliberation.start_draft(definition=definition, label="1.0", acting_user=olga)
    deliberation.update_draft(version=draft, label="1.0", body="Text.\nMore.\nLast.", acting_user=olga)
    kept = deliberation.suggest_change(
        version=draft, line_from=1, line_to=1, replacement="The text.", reason="Clearer.", author=olga
    )
    deliberation.support_suggestion(suggestion=kept, user=bob)
    deliberation.decide_suggestion(suggestion=kept, accept=True, acting_user=olga)
    left = deliberation.suggest_change(
        version=draft, line_from=3, line_to=3, replacement="The last.", reason="Tidier.", author=olga
    )
    deliberation.decide_suggestion(suggestion=left, accept=False, reason="Fine as it is.", acting_user=olga)
    deliberation.suggest_change(version=draft, line_from=2, line_to=2, replacement="", reason="Cut.", author=olga)
    deliberation.consolidate_suggestions(version=draft, acting_user=olga)
    deliberation.update_draft(version=draft, label="1.0", body="Preamble.\nThe text.\nMore.\nLast.", acting_user=olga)
    code = deliberation.add_component(version=draft, fields=_fields("code"), acting_user=olga)
    deliberation.add_component(version=draft, fields=_fields("data"), acting_user=olga)
    deliberation.update_component(component=code, fields=_fields("code") | {"title": "Code"}, acting_user=olga)
    deliberation.remove_component(component=draft.components.get(key="data"), acting_user=olga)
    group = deliberation.create_group(definition=definition, key="weights", name="Weights", acting_user=olga)
    deliberation.add_member(group=group, user=alice, role=Membership.Role.CHAIR, acting_user=olga)
    deliberation.add_member(group=group, user=bob, acting_user=olga)
    deliberation.add_member(group=group, user=dave, acting_user=olga)
    deliberation.add_organizer(definition=definition, user=alice, acting_user=olga)
    deliberation.remove_organizer(definition=definition, user=alice, acting_user=olga)
    erin, frank = UserFactory(username="erin"), UserFactory(username="frank")
    declined = deliberation.request_to_join(group=group, user=erin, note="May I?")
    deliberation.decide_join_request(join_request=declined, accept=False, reason="Not yet.", acting_user=alice)
    accepted = deliberation.request_to_join(group=group, user=frank)
    deliberation.decide_join_request(join_request=accepted, accept=True, acting_user=alice)
    site = "http://testserver"
    revoked = deliberation.invite_member(group=group, email="x@example.org", site_url=site, acting_user=olga)
    deliberation.revoke_invitation(invitation=revoked, acting_user=olga)
    invitation = deliberation.invite_member(group=group, email=erin.email, site_url=site, acting_user=alice)
    deliberation.accept_invitation(invitation=invitation, user=erin)
    hook = webhooks.add_webhook(
        definition=definition, url="https://93.184.215.14/hook", events=["ballot.closed"], acting_user=olga
    )
    hook = webhooks.change_webhook(webhook=hook, url=hook.url, events=hook.events, active=False, acting_user=olga)
    hook = webhooks.rotate_webhook_secret(webhook=hook, acting_user=olga)
    webhooks.remove_webhook(webhook=hook, acting_user=olga)
    comment = deliberation.post_comment(author=bob, version=draft, body="A remark.")
    deliberation.edit_comment(comment=comment, body="A better remark.", acting_user=bob)
    deliberation.hide_comment(comment=comment, reason="Off topic.", acting_user=olga)
    published = deliberation.publish_version(version=draft, release_notes="First.", acting_user=olga)

    ballot = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed vote",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    ballot = edit_ballot(ballot, olga, title="The sealed vote")
    ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    ballot = services.reschedule_ballot(
        ballot=ballot, closes_at=timezone.now() + timedelta(days=7), reason="A week more", acting_user=olga
    )
    choices = {c.key: c for c in ballot.choices.all()}
    use, code = ballot.criteria.get(key="use"), published.components.get(key="code")
    grant = services.grant_veto(
        ballot=ballot, choice=choices["not-necessary"], group=group, reason="Charter", acting_user=olga
    )
    services.revoke_grant(grant=grant, reason="Granted in error", acting_user=olga)

    def cast(voter, choice: str, **kwargs) -> Vote:
        return services.cast_vote(
            ballot=ballot, voter=voter, component=code, criterion=use, choice=choices[choice], **kwargs
        )

    cast(bob, "required")
    cast(bob, "abstain")
    cast(alice, "required", acting_user=olga)
    services.read_sealed_votes(ballot=ballot, voter=alice, acting_user=olga)
    cast(dave, "required")
    services.withdraw_vote(ballot=ballot, voter=dave, component=code, criterion=use)
    declared = services.declare_conflict(ballot=ballot, member=bob, component=code, statement="I sell code.")
    services.withdraw_conflict(declaration=declared, acting_user=bob, reason="Not any more.")
    deliberation.remove_member(membership=group.memberships.get(user=dave), acting_user=olga)
    with override_settings(SOCIALACCOUNT_PROVIDERS={"github": {"APPS": [{"client_id": "id", "secret": "s"}]}}):
        deliberation.require_provider(group=group, provider="github", acting_user=olga)
        deliberation.require_provider(group=group, provider="", acting_user=olga)
    ballot = services.close_ballot(ballot=ballot, reason="Every member has voted", acting_user=olga)
    dispute = services.raise_dispute(ballot=ballot, raised_by=bob, voter=alice, reason="Cast for her")
    services.resolve_dispute(
        dispute=dispute, status=Dispute.Status.DISMISSED, resolution="She asked.", acting_user=olga
    )
    analysis.recompute(ballot)
    decision = decisions.record_decision(
        ballot=ballot, component=code, outcome="Yes", statement="Code is required.", acting_user=olga
    )
    objection = decisions.lodge_objection(decision=decision, member=bob, reasoning="Not with one vote.")
    decisions.answer_objection(objection=objection, answer="overruled", reason="Quorum held.", acting_user=olga)
    following = deliberation.start_draft(definition=definition, label="1.1", based_on=published, acting_user=olga)
    following = deliberation.publish_version(version=following, release_notes="Second.", acting_user=olga)
    carrying = services.create_ballot(
        version=following,
        key="carried",
        title="The vote on 1.1",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=olga,
        carried_from=ballot,
        carry_rule=Ballot.CarryRule.UNCHANGED,
    )
    services.open_ballot(ballot=carrying, acting_user=olga)
    return ballot


def test_the_services_together_record_every_action_of_the_vocabulary_and_no_other(everything):
    recorded = set(AuditEvent.objects.values_list("action", flat=True))

    assert recorded == {str(action) for action in Action}


def test_every_event_goes_in_a_stream_the_vocabulary_names(everything):
    streams = set(AuditEvent.objects.values_list("stream", flat=True))

    assert streams == {
        definition_stream("vocab"),
        ballot_stream("vocab", "sealed"),
        ballot_stream("vocab", "carried"),
    }
    assert everything.audit_stream == ballot_stream("vocab", "sealed")
    assert everything.definition.audit_stream == definition_stream("vocab")


def test_vote_events_are_exactly_the_ones_that_set_or_clear_a_cell():
    assert set(VOTE_ACTIONS) == {a for a in Action if a.startswith("vote.")}
    assert not set(SETS_THE_CELL) & set(CLEARS_THE_CELL)


def test_the_server_and_the_verifier_agree_on_which_actions_set_and_clear_a_cell(ballot, cast, alice, bob, dave, olga):
    """After each vote service, the cell its event names holds a vote exactly when the action sets the cell;
    and the verifier's replay of the stream (`verify_records`) gives exactly the stored votes."""
    code, use = ballot.version.components.get(key="code"), ballot.criteria.get(key="use")
    steps = [
        lambda: cast(bob, "code", "use", "required"),
        lambda: cast(bob, "code", "use", "abstain"),
        lambda: cast(alice, "code", "use", "required", acting_user=olga),
        lambda: services.withdraw_vote(ballot=ballot, voter=bob, component=code, criterion=use),
        lambda: cast(dave, "data", "use", "required"),
        lambda: services.withdraw_vote(ballot=ballot, voter=alice, component=code, criterion=use, acting_user=olga),
    ]
    seen = []
    for step in steps:
        step()
        event = AuditEvent.objects.filter(stream=ballot.audit_stream).latest("seq")
        p = event.payload
        held = Vote.objects.filter(
            ballot=ballot, voter__username=p["voter"], component__key=p["component"], criterion__key=p["criterion"]
        ).exists()
        assert (event.action in SETS_THE_CELL, event.action in CLEARS_THE_CELL) == (held, not held), event.action
        seen.append(event.action)

    assert set(seen) == set(VOTE_ACTIONS) - {Action.VOTE_CARRIED}  # carried as a ballot opens: the test below
    assert replay(ballot) == stored(ballot)
    assert verify_records(stream=ballot.audit_stream).votes == Vote.objects.filter(ballot=ballot).count() == 1


def test_votes_carried_as_a_ballot_opens_set_the_cells_their_events_name(everything):
    """vote.carried sets a cell, as the server and the verifier's replay both have it."""
    carrying = Ballot.objects.get(key="carried")
    events = AuditEvent.objects.filter(stream=carrying.audit_stream, action=Action.VOTE_CARRIED)

    assert Action.VOTE_CARRIED in SETS_THE_CELL
    assert (
        {(e.payload["voter"], e.payload["component"], e.payload["criterion"]) for e in events}
        == set(stored(carrying))
        == {("alice", "code", "use"), ("bob", "code", "use")}
    )
    assert replay(carrying) == stored(carrying)
    assert verify_records(stream=carrying.audit_stream).votes == 2


def test_a_sealed_ballot_seals_exactly_the_events_that_carry_a_vote(everything, olga):
    ballot = services.create_ballot(
        version=everything.version,
        key="second",
        title="Second sealed vote",
        groups=everything.groups.all(),
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )
    ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    bob = everything.groups.get().memberships.current().get(user__username="bob").user
    vote = services.cast_vote(
        ballot=ballot,
        voter=bob,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key="required"),
    )
    services.withdraw_vote(ballot=ballot, voter=bob, component=vote.component, criterion=vote.criterion)

    events = AuditEvent.objects.with_seals().filter(stream=ballot.audit_stream)
    sealed = {e.action for e in events if e.sealed}
    assert sealed == {Action.VOTE_CAST, Action.VOTE_WITHDRAWN}
    assert all(e.action not in VOTE_ACTIONS for e in events if not e.sealed)
