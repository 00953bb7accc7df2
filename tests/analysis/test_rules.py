"""One set of rules for a ballot's methodology and clustering: the form, the service and the bundle reader agree.

Each case is refused, with the same sentence, by the ballot form, by `create_ballot` and by the
bundle reader (which names the place in ballot.json), or accepted by all three.
"""

import copy

import pytest
from django.core.exceptions import ValidationError

import plenary_tally as tally
from plenary_tally import clustering, rules
from tests.votes.pages import ballot_rows
from votes import services
from votes.forms import BallotForm
from votes.models import Ballot

from . import handmade

BANDS = handmade.BALLOT["methodology"]
K_AND_SEED = handmade.BALLOT["clustering"]


def bands(*pairs, otherwise="No") -> dict:
    return {"rule": "mean-bands", "bands": [{"min": m, "label": label} for m, label in pairs], "otherwise": otherwise}


def majority(threshold) -> dict:
    return {"rule": "majority", "threshold": threshold}


# (methodology, clustering, the place refused or None, what the refusal says)
CASES = {
    "k 1": (BANDS, {"k": 1, "seed": 42}, "clustering.k", "a whole number of clusters k from 2 to 6, not 1."),
    "k 7": (BANDS, {"k": 7, "seed": 42}, "clustering.k", "a whole number of clusters k from 2 to 6, not 7."),
    "k 2": (BANDS, {"k": 2, "seed": 42}, None, None),
    "k 6": (BANDS, {"k": 6, "seed": 42}, None, None),
    "seed -1": (BANDS, {"k": 2, "seed": -1}, "clustering.seed", "a whole number from 0 to 4294967295, not -1."),
    "seed 2**32": (BANDS, {"k": 2, "seed": 2**32}, "clustering.seed", "from 0 to 4294967295, not 4294967296."),
    "seed 0": (BANDS, {"k": 2, "seed": 0}, None, None),
    "seed 2**32 - 1": (BANDS, {"k": 2, "seed": 2**32 - 1}, None, None),
    "band beyond 10**6": (
        bands((2e6, "Yes"), (1.0, "Maybe")),
        K_AND_SEED,
        "methodology.bands[0].min",
        "from -1000000 to 1000000; 2000000.0 is beyond that.",
    ),
    "bands at ±10**6": (bands((1e6, "Yes"), (-1e6, "Maybe")), K_AND_SEED, None, None),
    "bands ascending": (
        bands((1.0, "Maybe"), (2.0, "Yes")),
        K_AND_SEED,
        "methodology.bands",
        "Bands go from the highest minimum to the lowest, each minimum once.",
    ),
    "a minimum twice": (
        bands((2.0, "Yes"), (2.0, "Also yes")),
        K_AND_SEED,
        "methodology.bands",
        "each minimum once",
    ),
    "band without label": (
        bands((2.0, "Yes"), (1.0, "")),
        K_AND_SEED,
        "methodology.bands[1].label",
        "A band needs a label",
    ),
    "blank otherwise": (
        bands((2.0, "Yes"), otherwise=""),
        K_AND_SEED,
        "methodology.otherwise",
        "needs an `otherwise` label",
    ),
    "threshold 0": (majority(0), K_AND_SEED, "methodology.threshold", "a threshold more than 0 and at most 1"),
    "threshold 1.5": (majority(1.5), K_AND_SEED, "methodology.threshold", "a threshold more than 0 and at most 1"),
    "threshold 1": (majority(1), K_AND_SEED, None, None),
    "threshold 0.001": (majority(0.001), K_AND_SEED, None, None),
}
PARAMETERS = pytest.mark.parametrize("methodology, k_and_seed, place, refusal", CASES.values(), ids=CASES.keys())


def form_data(published, group, methodology: dict, k_and_seed: dict) -> dict:
    """The ballot form filled in with the settings, as an organizer types them."""
    data = {
        "title": "Second look",
        "key": "second-look",
        "version": published.pk,
        "groups": [group.pk],
        **ballot_rows(
            [("use", "Use")],
            [{"key": "yes", "label": "Yes", "value": "1"}, {"key": "no", "label": "No", "value": "-1"}],
        ),
        "results_visibility": "live",
        "eligibility": "frozen",
        "time_zone": "UTC",
        "rule": methodology["rule"],
        "k": str(k_and_seed["k"]),
        "seed": str(k_and_seed["seed"]),
    }
    if methodology["rule"] == "majority":
        return data | {"threshold": repr(methodology["threshold"])}
    lines = [f"{band['min']!r} {band['label']}" for band in methodology["bands"]]
    return data | {"bands": "\n".join(lines), "otherwise": methodology["otherwise"]}


@PARAMETERS
def test_the_ballot_form_refuses_or_accepts_the_settings_as_the_rules_say(
    published, group, methodology, k_and_seed, place, refusal
):
    form = BallotForm(form_data(published, group, methodology, k_and_seed), definition=published.definition)

    if refusal is None:
        assert form.is_valid(), form.errors
        assert (form.methodology(), form.clustering()) == (methodology, k_and_seed)
    else:
        field = place.split(".")[1].split("[")[0]
        assert not form.is_valid()
        assert [m for m in form.errors.get(field, []) if refusal in m], form.errors


@PARAMETERS
def test_create_ballot_refuses_or_accepts_the_settings_as_the_rules_say(
    published, group, olga, methodology, k_and_seed, place, refusal
):
    def create() -> Ballot:
        return services.create_ballot(
            version=published,
            key="second-look",
            title="Second look",
            groups=[group],
            criteria=[("use", "Use")],
            choices=[{"key": "yes", "label": "Yes", "value": 1}, {"key": "no", "label": "No", "value": -1}],
            methodology=copy.deepcopy(methodology),
            clustering=dict(k_and_seed),
            acting_user=olga,
        )

    if refusal is None:
        ballot = create()
        assert (ballot.methodology, ballot.clustering) == (methodology, k_and_seed)
    else:
        with pytest.raises(ValidationError) as refused:
            create()
        assert [m for m in refused.value.messages if refusal in m], refused.value.messages
        assert not Ballot.objects.exists()


@PARAMETERS
def test_the_bundle_reader_refuses_or_accepts_the_settings_as_the_rules_say(
    tmp_path, methodology, k_and_seed, place, refusal
):
    ballot = copy.deepcopy(handmade.BALLOT) | {"methodology": methodology, "clustering": k_and_seed}
    path = handmade.write_votes(tmp_path, ballot=ballot)

    if refusal is None:
        assert tally.recompute(path)["clustering"]["all"]["k"] == k_and_seed["k"]
    else:
        with pytest.raises(tally.BundleError) as refused:
            tally.recompute(path)
        assert refused.value.file == "ballot.json"
        assert refused.value.message.startswith(f"{place}: ") and refusal in refused.value.message


# The rules alone: what only JSON can hold -------------------------------------------------------

JSON_ONLY = {
    "methodology a list": ([], "", "The methodology must be an object with a rule, not []."),
    "no rule": ({}, "rule", "The methodology rule must be one of mean-bands, majority."),
    "band min as text": (
        {**BANDS, "bands": [{"min": "2", "label": "Yes"}]},
        "bands[0].min",
        'Band 1: A band needs a number as its minimum, such as 1.5, not "2".',
    ),
    "band min true": ({**BANDS, "bands": [{"min": True, "label": "Yes"}]}, "bands[0].min", "not true."),
    "band min huge": (
        {**BANDS, "bands": [{"min": 10**400, "label": "Yes"}]},
        "bands[0].min",
        "a whole number of about 401 digits is beyond that.",
    ),
    "band not an object": ({**BANDS, "bands": [2.0]}, "bands[0]", "A band must be an object"),
    "band label a number": ({**BANDS, "bands": [{"min": 2, "label": 2}]}, "bands[0].label", "A band needs a label"),
    "threshold true": (majority(True), "threshold", 'at most 1, such as 0.5, 0.667 or "2/3", not true.'),
    "threshold NaN": (majority(float("nan")), "threshold", "more than 0 and at most 1"),
    "labels a list": (majority(0.5) | {"labels": ["Passes"]}, "labels", "majority labels must map each outcome"),
    "a label blank": (majority(0.5) | {"labels": {"pass": " "}}, "labels.pass", 'The label for "pass" must be'),
    "threshold a ratio over 1": (
        majority("3/2"),
        "threshold",
        'more than 0 and at most 1, such as 0.5, 0.667 or "2/3"',
    ),
    "threshold a word": (majority("two thirds"), "threshold", 'not "two thirds"'),
    "strict a word": (majority("2/3") | {"strict": "yes"}, "strict", "`strict` is true (more than the threshold)"),
    "strict of all": (majority(1) | {"strict": True}, "strict", "a strict threshold is less than 1"),
    "unknown base": (majority(0.5) | {"base": "members"}, "base", "one of cast, cast-and-abstentions, eligible"),
    "unknown setting": (majority(0.5) | {"quorom": 3}, "quorom", 'majority has no setting "quorom"'),
    "quorum a number": (majority(0.5) | {"quorum": 3}, "quorum", "either a `count` or a `share`"),
    "quorum both": (majority(0.5) | {"quorum": {"count": 3, "share": 0.5}}, "quorum", "either a `count` or a `share`"),
    "quorum count 0": (majority(0.5) | {"quorum": {"count": 0}}, "quorum.count", "from 1 to 1000000, not 0"),
    "quorum share 2": (majority(0.5) | {"quorum": {"share": 2}}, "quorum.share", "more than 0 and at most 1"),
    "quorum abstentions": (
        majority(0.5) | {"quorum": {"count": 2, "abstentions": "no"}},
        "quorum.abstentions",
        "`abstentions` is true",
    ),
    "at least negative": (majority(0.5) | {"at_least": -1}, "at_least", "whole number of votes in favour"),
    "no threshold": ({"rule": "majority", "base": "cast"}, "threshold", "majority needs a threshold"),
    "groups a list": ({"rule": "majority", "groups": ["a"]}, "groups", "map each group's key to its condition"),
    "group without a condition": ({"rule": "majority", "groups": {"a": {}}}, "groups.a.threshold", "needs a threshold"),
    "group condition unknown": (
        {"rule": "majority", "groups": {"a": {"threshold": 0.5, "quorum": 1}}},
        "groups.a.quorum",
        'A group\'s condition has no setting "quorum"',
    ),
    "group threshold": ({"rule": "majority", "groups": {"a": {"threshold": 0}}}, "groups.a.threshold", "more than 0"),
    "for not a list": (majority(0.5) | {"for": "yes"}, "for", "lists the keys of the choices"),
    "recuse a list": (majority(0.5) | {"recuse": ["r"]}, "recuse", "the key of the choice that recuses"),
}

SCALE = [
    {"key": "yes", "value": 1},
    {"key": "no", "value": -1},
    {"key": "block", "value": -1, "blocking": True, "requires_rationale": True},
    {"key": "recuse", "value": 0},
]
REFERENCES = {
    "for names no choice": (majority(0.5) | {"for": ["yes", "ja"]}, SCALE, "for[1]", '"ja" counted in favour is not'),
    "recuse names no choice": (majority(0.5) | {"recuse": "away"}, SCALE, "recuse", 'The recuse choice "away" is not'),
    "recuse blocks": (majority(0.5) | {"recuse": "block"}, SCALE, "recuse", "can neither block nor require a grant"),
    "recuse in favour": (majority(0.5) | {"for": ["recuse"], "recuse": "recuse"}, SCALE, "recuse", "cannot also count"),
    "group not enrolled": (
        {"rule": "majority", "groups": {"browsers": {"threshold": 0.5}}},
        SCALE,
        "groups.browsers",
        '"browsers" is not a working group enrolled',
    ),
    "block without a reason": (
        majority(0.5),
        [*SCALE[:2], {"key": "block", "value": -1, "blocking": True}],
        "",
        'The blocking choice "block" must require a rationale',
    ),
}


@pytest.mark.parametrize("methodology, choices, path, message", REFERENCES.values(), ids=REFERENCES.keys())
def test_what_a_methodology_names_must_be_on_the_ballot(methodology, choices, path, message):
    rules.check_methodology(methodology)
    with pytest.raises(rules.RulesError) as refused:
        rules.check_references(methodology, choices, ["issuers"])

    assert (refused.value.path, message in str(refused.value)) == (path, True), str(refused.value)


@pytest.mark.parametrize("methodology, path, message", JSON_ONLY.values(), ids=JSON_ONLY.keys())
def test_a_methodology_is_refused_at_its_place_with_a_sentence(methodology, path, message):
    with pytest.raises(rules.RulesError) as refused:
        rules.check_methodology(methodology)

    assert refused.value.path == path
    assert message in str(refused.value) and str(refused.value).endswith(".")


@pytest.mark.parametrize(
    "settings, path",
    [
        (None, ""),
        ({"seed": 42}, "k"),
        ({"k": 2.0, "seed": 42}, "k"),
        ({"k": True, "seed": 42}, "k"),
        ({"k": 2}, "seed"),
    ],
)
def test_clustering_is_refused_at_its_place(settings, path):
    with pytest.raises(rules.RulesError) as refused:
        rules.check_clustering(settings)

    assert refused.value.path == path


def test_majority_labels_may_be_left_out_or_rename_outcomes():
    rules.check_methodology(majority(0.5))
    rules.check_methodology(majority(0.5) | {"labels": {"pass": "Adopted", "fail": "Not adopted"}})


def test_the_numbers_of_clusters_offered_are_those_with_a_silhouette():
    assert rules.K_RANGE == clustering.SILHOUETTE_KS
