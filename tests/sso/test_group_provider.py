"""A working group whose members vote with a given sign-in provider: its organizers set it (audited), its page
says it, and a member without an account of that provider linked cannot vote in its ballots, and is told how to.

The provider is the real one of tests/sso/provider/; bob links his account there as he would in a browser.
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from audit.models import AuditEvent
from deliberation import services as deliberation
from plenary_tally.vocabulary import Action
from tests.votes.conftest import make_scheduled
from votes import services

from .idp import PROVIDER_ID, through_provider


@pytest.fixture
def ballot(olga, published, group, other_group):
    return services.open_ballot(ballot=make_scheduled(olga, published, group, other_group), acting_user=olga)


def cast(ballot, voter, **kwargs):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key="code"),
        criterion=ballot.criteria.get(key="use"),
        choice=ballot.choices.get(key="required"),
        **kwargs,
    )


def test_an_organizer_requires_the_provider_recorded_in_the_definitions_log_and_each_open_ballots(
    sso, olga, group, ballot
):
    group = deliberation.require_provider(group=group, provider=PROVIDER_ID, acting_user=olga)
    assert group.required_provider == PROVIDER_ID
    events = AuditEvent.objects.filter(action=Action.GROUP_PROVIDER_CHANGED)
    assert sorted(e.stream for e in events) == sorted([group.definition.audit_stream, ballot.audit_stream])
    assert {(e.payload["provider"], e.payload["previous"], e.actor_id) for e in events} == {(PROVIDER_ID, "", olga.pk)}


def test_only_organizers_set_it_and_only_to_a_provider_the_site_offers(sso, olga, alice, group, nothing_written):
    with nothing_written(), pytest.raises(PermissionDenied):
        deliberation.require_provider(group=group, provider=PROVIDER_ID, acting_user=alice)  # the chair
    with nothing_written(), pytest.raises(ValidationError, match="not a sign-in provider of this site"):
        deliberation.require_provider(group=group, provider="github", acting_user=olga)  # not configured here
    group.refresh_from_db()
    assert group.required_provider == ""


def test_a_member_without_the_providers_account_cannot_vote_until_they_link_one(
    client, sso, olga, bob, dave, group, ballot
):
    deliberation.require_provider(group=group, provider=PROVIDER_ID, acting_user=olga)
    with pytest.raises(PermissionDenied, match="requires its members to vote with a linked Test IdP account"):
        cast(ballot, bob)
    with pytest.raises(PermissionDenied, match="Test IdP"):
        cast(ballot, bob, acting_user=olga)  # nor does an organizer vote for him: the right is his identity's
    cast(ballot, dave)  # corpora requires nothing
    client.force_login(bob)
    ballot_page = client.get(reverse("votes:ballot", args=["osd", ballot.key])).content.decode()
    assert 'id="identity-missing"' in ballot_page and reverse("socialaccount_connections") in ballot_page
    grid = client.get(reverse("votes:vote-grid", args=["osd", ballot.key]))
    assert grid.status_code == 403 and "linked Test IdP account" in grid.content.decode()
    group_page = client.get(group.get_absolute_url()).content.decode()
    assert 'id="link-provider"' in group_page and "Test IdP" in group_page

    through_provider(client, sso, "bob-elsewhere", process="connect")

    assert cast(ballot, bob).voter == bob
    assert client.get(reverse("votes:vote-grid", args=["osd", ballot.key])).status_code == 200
    assert "Your Test IdP account is linked" in client.get(group.get_absolute_url()).content.decode()


def test_the_organizer_sets_it_on_the_group_page_and_everyone_reads_it_there(client, sso, olga, group):
    client.force_login(olga)
    page = client.get(group.get_absolute_url()).content.decode()
    assert reverse("deliberation:group-provider", args=["osd", group.key]) in page
    response = client.post(reverse("deliberation:group-provider", args=["osd", group.key]), {"provider": PROVIDER_ID})
    assert response.status_code == 302
    client.logout()
    page = client.get(group.get_absolute_url()).content.decode()
    assert "vote in its ballots with a linked <strong>Test IdP</strong> account" in page
    assert reverse("deliberation:group-provider", args=["osd", group.key]) not in page  # no form for observers


def test_a_provider_not_offered_is_refused_by_the_form_and_nothing_is_written(
    client, sso, olga, group, nothing_written
):
    client.force_login(olga)
    with nothing_written():
        response = client.post(reverse("deliberation:group-provider", args=["osd", group.key]), {"provider": "x" * 500})
    assert response.status_code == 302
    assert "Select a valid choice" in client.get(group.get_absolute_url()).content.decode()
