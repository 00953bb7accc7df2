"""The fixtures of carried votes, for the votes and the bundle tests: two versions and a closed ballot on the first.

Version 1.0 has Training code, Training data, Testing data and Model; version 2.0 keeps Training code as it was,
merges the two data components into Datasets (the organizers' mapping) and rewords Model. On the 1.0 ballot
alice votes Required everywhere; bob votes on both data components, but not alike; dave abstains on Model.
`carrying(rule)` creates and opens the ballot on 2.0 that carries from it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ComponentFactory, DraftVersionFactory
from votes import services
from votes.models import Ballot

from .conftest import CHOICES, CRITERIA

MERGE = {"datasets": ["training-data", "testing-data"]}


@pytest.fixture
def version_1(definition):
    version = DraftVersionFactory(definition=definition, label="1.0", published_at=timezone.now() - timedelta(days=30))
    ComponentFactory(version=version, key="code", title="Training code", category="Code", description="All of it.")
    ComponentFactory(version=version, key="training-data", title="Training data", category="Data")
    ComponentFactory(version=version, key="testing-data", title="Testing data", category="Data")
    ComponentFactory(version=version, key="model", title="Model", category="Model", description="The weights.")
    return version


@pytest.fixture
def version_2(definition, version_1):
    version = DraftVersionFactory(definition=definition, label="2.0")
    ComponentFactory(version=version, key="code", title="Training code", category="Code", description="All of it.")
    ComponentFactory(version=version, key="datasets", title="Datasets", category="Data")
    ComponentFactory(version=version, key="model", title="Model", category="Model", description="Weights, all.")
    return version


def cast_on(ballot, voter, component, choice, criterion="use", **kwargs):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(key=criterion),
        choice=ballot.choices.get(key=choice),
        **kwargs,
    )


@pytest.fixture
def closed_1(version_1, olga, alice, bob, dave, group, other_group):
    """The ballot on 1.0, voted on and closed."""
    ballot = services.create_ballot(
        version=version_1,
        key="v1",
        title="Components of 1.0",
        groups=[group, other_group],
        criteria=CRITERIA,
        choices=CHOICES,
        eligibility=Ballot.Eligibility.LIVE,
        acting_user=olga,
    )
    ballot = services.open_ballot(ballot=ballot, acting_user=olga)
    for component in ("code", "training-data", "testing-data", "model"):
        cast_on(ballot, alice, component, "required")
    cast_on(ballot, bob, "training-data", "required")
    cast_on(ballot, bob, "testing-data", "object", rationale="Test sets leak.")
    cast_on(ballot, dave, "model", "abstain")
    return services.close_ballot(ballot=ballot, acting_user=olga, reason="Enough votes.")


@pytest.fixture
def carrying(version_2, closed_1, olga, group, other_group):
    """`carrying(rule)`: the ballot on 2.0 carrying from the 1.0 one under `rule`, with the merge mapped, opened
    (by olga, or by itself when `opens_at` is given); other settings of `create_ballot` as keywords."""

    def create(rule: str, mapping: dict | None = None, key: str = "v2", **settings) -> Ballot:
        ballot = services.create_ballot(
            version=version_2,
            key=key,
            title="Components of 2.0",
            groups=[group, other_group],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=olga,
            carried_from=closed_1,
            carry_rule=rule,
            carry_mapping=MERGE if mapping is None else mapping,
            **({"eligibility": Ballot.Eligibility.LIVE} | settings),
        )
        if ballot.opens_at is not None:  # its opening time has come: it opens by itself, no one acting
            return services.apply_schedule(ballot)
        return services.open_ballot(ballot=ballot, acting_user=olga)

    return create
