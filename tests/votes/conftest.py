"""Fixtures for the votes tests; the personas and domain fixtures are in tests/conftest.py.

`ballot` is an open ballot on `published` (components code, data and the aggregate
all-data) for the groups `weights` (alice, bob) and `corpora` (dave), organized by olga;
`scheduled` is the same ballot before it opens. Its roster is live, as tests add members as they go: those of
the frozen roster (the default) ask for it (`frozen`). `grant` gives weights the veto power “Not necessary”;
`voted` adds a few votes under it; `dispute` is bob's dispute of corpora's abstentions; `not_necessary`
is the ballot's restricted choice.

For the tests of the services: `audited(change)` runs a change and returns the one audit event it wrote,
`assert_event` checks that event's stream, action, actor and subject, `the(ballot, choice=…)` looks up
a criterion, choice or component by key, and `new_ballot` creates another ballot on a version.
"""

import pytest

from audit.models import AuditEvent
from votes import services
from votes.models import Ballot, Dispute, VetoGrant

CRITERIA = [("use", "Use"), ("study", "Study"), ("modify", "Modify"), ("share", "Share")]
CHOICES = [
    {"key": "required", "label": "Required", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
    {"key": "object", "label": "Object", "value": -1, "requires_rationale": True},
]


@pytest.fixture
def scheduled(olga, published, group, other_group):
    """The ballot as created: scheduled, not yet open."""
    return make_scheduled(olga, published, group, other_group)


def make_scheduled(olga, published, group, other_group) -> Ballot:
    return services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        eligibility=Ballot.Eligibility.LIVE,
        acting_user=olga,
    )


def edit_ballot(ballot: Ballot, acting_user, **changes) -> Ballot:
    """`services.update_ballot` with the ballot's current settings but for `changes`."""
    current = {
        "title": ballot.title,
        "description": ballot.description,
        "groups": list(ballot.groups.all()),
        "criteria": [(c.key, c.label) for c in ballot.criteria.all()],
        "choices": [c.as_data() for c in ballot.choices.all()],
        "methodology": ballot.methodology,
        "clustering": ballot.clustering,
        "eligibility": ballot.eligibility,
        "opens_at": ballot.opens_at,
        "closes_at": ballot.closes_at,
    }
    return services.update_ballot(ballot=ballot, acting_user=acting_user, **(current | changes))


@pytest.fixture
def frozen(scheduled, olga):
    """`scheduled` under the default rule, the roster frozen when voting opens (an edit on the record)."""
    return edit_ballot(scheduled, olga, eligibility=Ballot.Eligibility.FROZEN)


@pytest.fixture
def ballot(scheduled, olga):
    return services.open_ballot(ballot=scheduled, acting_user=olga)


@pytest.fixture
def cast(ballot):
    """`cast(voter, "code", "use", "required", rationale=…)`: cast_vote on `ballot`, by keys."""

    return make_cast(ballot)


def make_cast(ballot: Ballot):
    def cast_by_keys(voter, component: str = "code", criterion: str = "use", choice: str = "required", **kwargs):
        return services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=ballot.version.components.get(key=component),
            criterion=ballot.criteria.get(key=criterion),
            choice=ballot.choices.get(key=choice),
            **kwargs,
        )

    return cast_by_keys


@pytest.fixture
def choice(ballot):
    return lambda key: ballot.choices.get(key=key)


@pytest.fixture
def grant(ballot, olga, group, choice):
    """weights holds the veto power “Not necessary” on every component."""
    return make_grant(ballot, olga, group)


def make_grant(ballot: Ballot, olga, group) -> VetoGrant:
    return services.grant_veto(
        ballot=ballot,
        choice=ballot.choices.get(key="not-necessary"),
        group=group,
        reason="Charter §3: model builders speak for the weights.",
        acting_user=olga,
    )


@pytest.fixture
def voted(ballot, grant, cast, alice, bob, dave):
    """A few votes: alice's undocumented veto on data/use among them."""
    return make_voted(ballot, alice, bob, dave)


def make_voted(ballot: Ballot, alice, bob, dave) -> Ballot:
    cast = make_cast(ballot)
    cast(bob, "code", "use", "required", rationale="Nobody can study a model without its code.")
    cast(alice, "code", "use", "object", rationale="Too strict for small labs.")
    cast(alice, "data", "use", "not-necessary")
    cast(dave, "code", "use", "abstain")
    cast(dave, "data", "study", "required", rationale="Data is how you study a model.")
    return ballot


@pytest.fixture
def dispute(voted, bob, other_group, choice):
    """bob disputes corpora's abstentions."""
    return make_dispute(voted, bob, other_group)


def make_dispute(voted: Ballot, bob, other_group) -> Dispute:
    return services.raise_dispute(
        ballot=voted,
        raised_by=bob,
        reason="Abstaining on code is a veto in disguise.",
        group=other_group,
        choice=voted.choices.get(key="abstain"),
    )


def audited(change):
    """Run `change`; return its result and the one audit event it wrote, failing if it wrote none or several."""
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    result = change()
    new = list(AuditEvent.objects.filter(pk__gt=last))
    assert len(new) == 1, f"expected one audit event, got {[e.action for e in new]}"
    return result, new[0]


def assert_event(event, *, ballot, action, actor, subject):
    assert (event.stream, event.action, event.actor_handle) == (ballot.audit_stream, action, actor)
    assert (event.subject_type, event.subject_id) == (subject._meta.label_lower, str(subject.pk))


def the(ballot, **keys):
    """Look up the ballot's criterion, choice or the version's component by key: the(ballot, choice="abstain")."""
    [(kind, key)] = keys.items()
    related = {"criterion": ballot.criteria, "choice": ballot.choices, "component": ballot.version.components}
    return related[kind].get(key=key)


def new_ballot(version, olga, groups, **overrides):
    fields = {
        "version": version,
        "key": "second",
        "title": "Second vote",
        "groups": groups,
        "criteria": CRITERIA,
        "choices": CHOICES,
        "acting_user": olga,
    }
    return services.create_ballot(**fields | overrides)


@pytest.fixture
def not_necessary(ballot):
    return the(ballot, choice="not-necessary")
