"""The votes part of the demo: a component ballot on version 0.0.9, voted on by every working group.

Like the 2024 drafting of the Open Source AI Definition: each group's members say, for every
component, whether it is required to Use, Study, Modify and Share an open model. One group
holds the power to vote "Not necessary" (−1), and uses it on data components, often without
saying why. Everything goes through `votes.services`, so the demo's audit log is real. The
pattern is random but fixed (seed 2024), so every fresh demo holds the same votes.
"""

import random

from deliberation.models import Definition, DraftVersion, Membership

from . import services
from .models import Ballot

BALLOT_KEY = "components-0-0-9"
SEED = 2024

DESCRIPTION = """For each component of version 0.0.9: is it **required** to *Use*, *Study*,
*Modify* and *Share* an open model?

A component's score is the sum of its votes over the four freedoms. Outcomes follow the
2024 rubric: Yes from twice the mean score μ, Lean yes from 1.5 μ, Maybe from μ, Lean no from
0.5 μ, otherwise No. Data Commons may vote *Not necessary* (−1) under its charter.
"""
CRITERIA = [("use", "Use"), ("study", "Study"), ("modify", "Modify"), ("share", "Share")]
CHOICES = [
    {"key": "required", "label": "Required", "value": 1},
    {"key": "abstain", "label": "Abstain", "value": 0},
    {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
]
GRANT = (
    "data-commons",
    "Charter of the Data Commons group, §3: as stewards of open corpora, its members may mark a "
    "component Not necessary where they judge the freedoms can be exercised without it.",
)

# How likely a member is to vote Required, per component and criterion (Use, Study, Modify, Share).
# Code and parameters are mostly required; data sets are contested; documentation is mixed.
REQUIRED = {
    "preprocessing-code": (0.35, 0.85, 0.8, 0.55),
    "training-code": (0.6, 0.95, 0.9, 0.75),
    "evaluation-code": (0.3, 0.8, 0.55, 0.45),
    "inference-code": (0.95, 0.85, 0.9, 0.9),
    "supporting-libraries": (0.85, 0.6, 0.65, 0.75),
    "training-data": (0.2, 0.55, 0.45, 0.25),
    "testing-data": (0.1, 0.45, 0.3, 0.15),
    "validation-data": (0.1, 0.4, 0.35, 0.15),
    "benchmark-data": (0.15, 0.35, 0.2, 0.2),
    "data-information": (0.5, 0.85, 0.75, 0.55),
    "model-architecture": (0.9, 0.9, 0.85, 0.8),
    "model-parameters": (0.95, 0.9, 0.95, 0.95),
    "model-card": (0.6, 0.7, 0.4, 0.5),
    "technical-report": (0.3, 0.75, 0.5, 0.35),
    "research-paper": (0.15, 0.4, 0.2, 0.15),
    "usage-documentation": (0.85, 0.5, 0.6, 0.6),
    "data-card": (0.35, 0.75, 0.45, 0.45),
}
# Each group leans its own way on some categories.
LEANINGS = {
    "data-commons": {"Data": 0.35, "Code": -0.1},
    "inference": {"Code": 0.1, "Data": -0.1},
    "language": {"Model": 0.05},
    "vision": {"Documentation": 0.1},
}
# Data Commons: how likely a member is to vote Not necessary on a component, and the reason some give.
NOT_NECESSARY = {
    "data-information": (
        0.55,
        "Information about the data is not the data: only the data sets let anyone study or modify the model.",
    ),
    "research-paper": (0.3, "A paper describes the work; the code, data and model card already cover it."),
    "technical-report": (0.2, "The data card and model card say what a report would."),
    "benchmark-data": (0.3, "Public benchmarks are published already; shipping them again adds no freedom."),
}
RATIONALE_GIVEN = 0.35  # share of Not necessary votes that come with the reason
TURNOUT = (0.7, 0.98)  # each member votes on this share of the cells, drawn per member

# (organizer, member, component, criterion, rationale): a Required vote entered for a member.
ON_BEHALF = ("tomasz", "felix", "usage-documentation", "share", "Sent by e-mail during the outage.")
OPEN_DISPUTE = (
    "kofi",
    "Most Not necessary votes of Data Commons give no rationale; without one, nobody can weigh them "
    "against the Required votes they cancel.",
)
RESOLVED_DISPUTE = (
    "pieter",
    "This vote was entered by an organizer, not by Felix.",
    "mara",
    "Felix asked for it by e-mail on 12 September, when the site was down; the message is on file.",
)


def seed_ballot(definition: Definition, version: DraftVersion, organizers: list, people: dict) -> Ballot:
    """Create, open and fill the demo ballot on `version`, through the services only.

    `organizers` are the definition's organizers (the first creates and opens the ballot, the
    last grants the veto power); `people` are the demo's accounts by handle.
    """
    creator, granter = organizers[0], organizers[-1]
    rng = random.Random(SEED)
    groups = list(definition.working_groups.order_by("key"))
    ballot = services.create_ballot(
        version=version,
        key=BALLOT_KEY,
        title=f"Component vote on {version.label}",
        description=DESCRIPTION,
        groups=groups,
        criteria=CRITERIA,
        choices=CHOICES,
        acting_user=creator,
    )
    choices = {c.key: c for c in ballot.choices.all()}
    criteria = list(ballot.criteria.all())
    holder = next(g for g in groups if g.key == GRANT[0])
    services.grant_veto(
        ballot=ballot, choice=choices["not-necessary"], group=holder, reason=GRANT[1], acting_user=granter
    )
    services.open_ballot(ballot=ballot, acting_user=creator)

    organizer, voter, component_key, criterion_key, rationale = ON_BEHALF
    components = list(version.components.leaves().order_by("position", "key"))
    for group in groups:
        memberships = Membership.objects.current().filter(group=group).select_related("user").order_by("user__username")
        for member in (m.user for m in memberships):
            turnout = rng.uniform(*TURNOUT)
            for component in components:
                for i, criterion in enumerate(criteria):
                    left_to_the_organizer = (member.get_username(), component.key, criterion.key) == ON_BEHALF[1:4]
                    if rng.random() > turnout or left_to_the_organizer:
                        continue
                    choice, reason = _choose(rng, group.key, component, i)
                    services.cast_vote(
                        ballot=ballot,
                        voter=member,
                        group=group,
                        component=component,
                        criterion=criterion,
                        choice=choices[choice],
                        rationale=reason,
                    )

    on_behalf = services.cast_vote(
        ballot=ballot,
        voter=people[voter],
        component=version.components.get(key=component_key),
        criterion=ballot.criteria.get(key=criterion_key),
        choice=choices["required"],
        rationale=rationale,
        acting_user=people[organizer],
    )
    services.raise_dispute(
        ballot=ballot,
        raised_by=people[OPEN_DISPUTE[0]],
        reason=OPEN_DISPUTE[1],
        group=holder,
        choice=choices["not-necessary"],
    )
    raised_by, reason, resolved_by, resolution = RESOLVED_DISPUTE
    dispute = services.raise_dispute(
        ballot=ballot,
        raised_by=people[raised_by],
        reason=reason,
        voter=on_behalf.voter,
        component=on_behalf.component,
        criterion=on_behalf.criterion,
    )
    services.resolve_dispute(
        dispute=dispute, status="dismissed", resolution=resolution, acting_user=people[resolved_by]
    )
    return ballot


def _choose(rng: random.Random, group_key: str, component, criterion_index: int) -> tuple[str, str]:
    """One member's choice on one cell, and its rationale."""
    if group_key == GRANT[0] and component.key in NOT_NECESSARY:
        chance, reason = NOT_NECESSARY[component.key]
        if rng.random() < chance:
            return "not-necessary", reason if rng.random() < RATIONALE_GIVEN else ""
    base = REQUIRED.get(component.key, (0.5,) * 4)[criterion_index]
    leaning = LEANINGS.get(group_key, {}).get(component.category, 0.0)
    return ("required" if rng.random() < base + leaning else "abstain"), ""
