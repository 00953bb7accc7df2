"""`seed_demo` loads the whole demo, the component ballot included, and loading it again changes nothing."""

from io import StringIO

import pytest
from django.core.management import call_command, get_commands

from audit.models import AuditEvent
from deliberation.models import Comment, Definition, Membership
from plenary_tally.vocabulary import Action
from votes.models import Ballot, Dispute, VetoGrant, Vote


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Definition, Membership, Comment, Ballot, VetoGrant, Vote, Dispute, AuditEvent]
    return {model.__name__: model.objects.count() for model in models}


def test_seed_demo_is_the_votes_apps_command():
    assert get_commands()["seed_demo"] == "votes"


@pytest.mark.slow
def test_seed_demo_loads_a_ballot_voted_on_by_every_group_and_changes_nothing_the_second_time(db):
    first = seed()
    loaded = counts()
    second = seed()

    assert counts() == loaded
    assert "Demo loaded." in first
    assert "already loaded" in second
    for output in (first, second):
        assert "Demo accounts (password for all: plenary-demo):" in output
        assert "Data Commons: chair noor;" in output
        assert "Ballot: Component vote on 0.0.9," in output
        assert "at /d/open-model/ballots/components-0-0-9/" in output

    ballot = Ballot.objects.get(definition__slug="open-model", key="components-0-0-9")
    assert (ballot.status, ballot.version.label, ballot.title) == ("open", "0.0.9", "Component vote on 0.0.9")
    assert list(ballot.criteria.values_list("label", flat=True)) == ["Use", "Study", "Modify", "Share"]
    assert list(ballot.choices.values_list("key", "value", "requires_grant")) == [
        ("required", 1, False),
        ("abstain", 0, False),
        ("not-necessary", -1, True),
    ]
    assert ballot.methodology["rule"] == "mean-bands"
    groups = set(ballot.groups.values_list("key", flat=True))
    assert groups == {"language", "vision", "inference", "data-commons"}
    assert set(ballot.votes.values_list("group__key", flat=True)) == groups
    assert not ballot.votes.filter(component__aggregate_rule__gt="").exists()
    [grant] = ballot.grants.all()
    assert (grant.group.key, grant.choice.key, grant.revoked_at) == ("data-commons", "not-necessary", None)

    restricted = ballot.votes.restricted()
    assert set(restricted.values_list("group__key", flat=True)) == {"data-commons"}
    assert restricted.undocumented_vetoes().exists()
    assert restricted.exclude(rationale="").exists()
    [on_behalf] = [v for v in ballot.votes.select_related("cast_by", "voter") if v.on_behalf]
    assert (on_behalf.voter.username, on_behalf.cast_by.username) == ("felix", "tomasz")
    assert ballot.votes.disputed().count() == restricted.count()

    open_dispute = ballot.disputes.get(status=Dispute.Status.OPEN)
    assert (open_dispute.group.key, open_dispute.choice.key) == ("data-commons", "not-necessary")
    resolved = ballot.disputes.exclude(status=Dispute.Status.OPEN).get()
    assert (
        ballot.votes.filter(voter=resolved.voter, component=resolved.component, criterion=resolved.criterion).count()
        == 1
    )

    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "Audit log intact" in out.getvalue()
    assert ballot.audit_stream in out.getvalue()
    recorded = set(AuditEvent.objects.values_list("action", flat=True))
    assert recorded <= {str(action) for action in Action}, "every action the demo records is named in the vocabulary"
