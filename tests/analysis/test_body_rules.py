"""The rules of real bodies, built from their published wording (`plenary_tally.presets`), at each boundary.

The IESG approves a standards-track document with Yes or No Objection from two thirds of the area directors
who have not recused themselves and no standing DISCUSS; an informational one with one Yes and no DISCUSS.
The CA/Browser Forum passes a ballot with at least two thirds of the issuers' votes and more than half of the
browsers' votes Yes, abstentions out of the ratios but counted toward quorum, and at least one Yes in each class.
OSI's 2024 rubric bands a component's score at multiples of the mean score. No database.
"""

from fractions import Fraction

import pytest

from plenary_tally import majority, methodologies, outcomes, rules
from plenary_tally.model import BallotSpec, Cell, Choice, Component
from plenary_tally.presets import PRESETS


def preset_spec(key: str, groups: dict[str, int], methodology: dict | None = None) -> BallotSpec:
    """A one-component ballot under the preset's rules, with these groups and their numbers of eligible members."""
    preset = PRESETS[key]
    methodology = methodology or preset["methodology"]
    rules.check_methodology(methodology)
    rules.check_references(methodology, preset["choices"], list(groups))
    return BallotSpec(
        criteria=tuple(c for c, _ in preset["criteria"]),
        choices={
            c["key"]: Choice(c["key"], c["value"], c.get("requires_grant", False), c.get("blocking", False))
            for c in preset["choices"]
        },
        components=(Component("doc"),),
        groups=tuple(sorted(groups)),
        methodology=methodology,
        eligible=groups,
        eligible_voters=sum(groups.values()),
        group_names={"issuers": "Certificate issuers", "browsers": "Browsers", "iesg": "IESG"},
    )


def votes(spec: BallotSpec, **by_group: dict[str, int]) -> list[Cell]:
    return [
        Cell("doc", spec.criteria[0], group, choice, False, n)
        for group, counts in by_group.items()
        for choice, n in counts.items()
        if n
    ]


def result(spec: BallotSpec, cells: list[Cell]):
    return majority.majority(spec, cells)["doc"]


# IESG, standards track: two thirds of the area directors not recused, Yes or No Objection -----------------

STANDARDS = "iesg-standards"


@pytest.mark.parametrize(
    "positions, outcome",
    [
        ({"yes": 4, "no-objection": 6, "abstain": 5}, "Approved"),  # 10 of 15: exactly two thirds
        ({"yes": 4, "no-objection": 5, "abstain": 6}, "Not approved"),  # 9 of 15
        ({"yes": 10}, "Approved"),  # the other five did not vote: still 10 of 15
        ({"yes": 9}, "Not approved"),
    ],
)
def test_iesg_standards_track_needs_two_thirds_of_the_area_directors(positions, outcome):
    spec = preset_spec(STANDARDS, {"iesg": 15})

    assert result(spec, votes(spec, iesg=positions)).outcome == outcome


def test_iesg_one_recusal_takes_a_director_out_of_the_base():
    spec = preset_spec(STANDARDS, {"iesg": 13})
    without = votes(spec, iesg={"yes": 8, "abstain": 5})  # 8 of 13 is less than two thirds
    recused = votes(spec, iesg={"yes": 8, "abstain": 4, "recuse": 1})  # 8 of the 12 not recused: two thirds

    assert result(spec, without).outcome == "Not approved"
    assert result(spec, without).needs == "needs 1 more in favour"
    assert result(spec, recused).outcome == "Approved"
    assert result(spec, recused).score == Fraction(2, 3)


def test_iesg_a_standing_discuss_blocks_whatever_the_count():
    spec = preset_spec(STANDARDS, {"iesg": 15})
    blocked = result(spec, votes(spec, iesg={"yes": 14, "discuss": 1}))

    assert (blocked.outcome, blocked.margin, blocked.needs) == ("DISCUSS holds", 1, "blocked: 1 vote blocking stands")


def test_iesg_discuss_must_carry_its_reason_on_the_ballot():
    choices = [dict(c, requires_rationale=False) if c["key"] == "discuss" else c for c in PRESETS[STANDARDS]["choices"]]

    with pytest.raises(rules.RulesError, match='The blocking choice "discuss" must require a rationale'):
        rules.check_references(PRESETS[STANDARDS]["methodology"], choices, ["iesg"])


# IESG, informational: one Yes and no DISCUSS ---------------------------------------------------------------


@pytest.mark.parametrize(
    "positions, outcome, needs",
    [
        ({"yes": 1, "no-objection": 3}, "Approved", "would fail with 1 in favour turned against"),
        ({"no-objection": 14}, "Not approved", "needs 1 more in favour"),  # No Objection is not a Yes
        ({"yes": 1, "discuss": 1}, "DISCUSS holds", "blocked: 1 vote blocking stands"),
        ({"recuse": 2}, "No positions", "only recusals"),
    ],
)
def test_iesg_informational_needs_one_yes_and_no_discuss(positions, outcome, needs):
    spec = preset_spec("iesg-informational", {"iesg": 15})
    found = result(spec, votes(spec, iesg=positions))

    assert (found.outcome, found.needs) == (outcome, needs)


# CA/Browser Forum: two thirds of the issuers, more than half of the browsers, one Yes in each, quorum ------

CABF = "cabf-ballot"


def cabf(quorum: int = 6) -> BallotSpec:
    methodology = dict(PRESETS[CABF]["methodology"], quorum={"count": quorum, "abstentions": True})
    return preset_spec(CABF, {"issuers": 30, "browsers": 5}, methodology)


@pytest.mark.parametrize(
    "issuers, browsers, outcome",
    [
        ({"yes": 2, "no": 1}, {"yes": 2, "no": 1}, "Passes"),  # issuers exactly two thirds: enough
        ({"yes": 3, "no": 2}, {"yes": 2, "no": 1}, "Fails"),  # issuers 3 of 5
        ({"yes": 2, "no": 1}, {"yes": 2, "no": 2}, "Fails"),  # browsers exactly half: not more than half
        ({"yes": 2, "no": 1, "abstain": 9}, {"yes": 2, "no": 1, "abstain": 3}, "Passes"),  # out of the ratios
        ({"yes": 6}, {"abstain": 3}, "Fails"),  # no Yes from the browsers
    ],
)
def test_cabf_ballot_by_class(issuers, browsers, outcome):
    spec = cabf()

    assert result(spec, votes(spec, issuers=issuers, browsers=browsers)).outcome == outcome


def test_cabf_quorum_is_met_by_abstentions():
    spec = cabf(quorum=8)
    short = result(spec, votes(spec, issuers={"yes": 2, "no": 1}, browsers={"yes": 2, "no": 1}))
    met = result(spec, votes(spec, issuers={"yes": 2, "no": 1, "abstain": 2}, browsers={"yes": 2, "no": 1}))

    assert (short.outcome, short.needs) == ("Fails", "fails quorum: 6 of 8 votes needed")
    assert short.margin is None
    assert met.outcome == "Passes"


def test_cabf_says_what_each_class_needs():
    spec = cabf()
    found = result(spec, votes(spec, issuers={"yes": 3, "no": 3}, browsers={"yes": 1, "no": 1}))

    assert found.outcome == "Fails"
    assert found.needs == (
        "needs 1 more in favour from Browsers, or 1 fewer against; "
        "and 3 more in favour from Certificate issuers, or 2 fewer against"
    )
    assert found.margin == 1 + 1  # one issuer's No turned Yes (4 of 6), and one browser's (2 of 2)
    assert outcomes.compute(spec, votes(spec, issuers={"yes": 1}, browsers={"yes": 1}))["scenarios"][0][
        "thresholds"
    ] == {"threshold:browsers": "1/2", "threshold:issuers": "2/3"}


# OSI's 2024 rubric: bands at multiples of the mean score ---------------------------------------------------


def test_osi_mean_bands_a_score_on_a_band_reaches_it():
    preset = PRESETS["osi-mean-bands"]
    spec = BallotSpec(
        criteria=("use", "study", "modify", "share"),
        choices={c["key"]: Choice(c["key"], c["value"], c.get("requires_grant", False)) for c in preset["choices"]},
        components=(Component("weights"), Component("data")),
        groups=("wg",),
        methodology=preset["methodology"],
    )
    # weights scores 4, data 0: μ = 2, so weights is exactly at 2.0 μ (Yes) and data below 0.5 μ (No)
    cells = [Cell("weights", criterion, "wg", "required", False, 1) for criterion in spec.criteria]
    _, found = methodologies.mean_bands(spec, cells)

    assert (found["weights"].outcome, found["data"].outcome) == ("Yes", "No")
    assert (found["weights"].margin, found["weights"].needs) == (None, "")  # its votes move μ with it: stays Yes


# The rule as plain as before: one voter of many passes it, unless the rule says whose votes count ----------


def test_a_quorum_keeps_one_voter_of_22_from_passing_a_component():
    plain = {"rule": "majority", "threshold": 0.5}
    spec = preset_spec(CABF, {"wg": 22}, plain)
    one = votes(spec, wg={"yes": 1})
    with_quorum = BallotSpec(**{**spec.__dict__, "methodology": plain | {"quorum": {"share": "1/2"}}})

    assert result(spec, one).outcome == "Passes"
    assert (result(with_quorum, one).outcome, result(with_quorum, one).needs) == (
        "Fails",
        "fails quorum: 1 of 11 votes needed",
    )


def test_each_rule_is_stated_in_words_as_its_body_words_it():
    iesg = PRESETS[STANDARDS]
    labels = {c["key"]: c["label"] for c in iesg["choices"]}

    assert majority.in_words(iesg["methodology"], labels, ["discuss"], {}) == (
        "A component passes when at least 2/3 of the eligible members' votes (recusals left out) are in favour. "
        "Counted in favour: Yes, No Objection; against: the choices of negative value; the others abstain. "
        "“Recuse” takes the voter out of every base and of the quorum. "
        "A standing DISCUSS blocks it, whatever the count; it carries its reason."
    )
    assert majority.in_words(
        PRESETS[CABF]["methodology"], {}, [], {"issuers": "Certificate issuers", "browsers": "Browsers"}
    ) == (
        "A component passes when in Browsers, more than 1/2 of the votes cast (abstentions not counted) are in "
        "favour and at least 1 vote is in favour, and in Certificate issuers, at least 2/3 of the votes cast "
        "(abstentions not counted) are in favour and at least 1 vote is in favour. "
        "Quorum: 6 voters; abstentions count toward it."
    )
