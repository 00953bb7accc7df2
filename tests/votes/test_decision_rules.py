"""Ballots under the bodies' rules (`plenary_tally.presets`), end to end: the new-ballot form starts from a
body's rules, the votes are cast and checked as its rule says, and a bundle of each verifies offline and
round-trips through `import_tally`.

olga organizes `osd`; alice and bob are in `weights`, dave in `corpora`; the components are code, data and
the aggregate all-data.
"""

import json
import zipfile
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

import plenary_tally as tally
from analysis import bundles
from analysis import services as analysis
from plenary_tally.presets import PRESETS
from tests.client import text
from tests.votes.pages import ballot_rows, url
from votes import services
from votes.models import Ballot


def preset_ballot(preset: str, published, groups, olga, methodology: dict | None = None) -> Ballot:
    chosen = PRESETS[preset]
    ballot = services.create_ballot(
        version=published,
        key=preset,
        title=chosen["title"],
        groups=groups,
        criteria=[tuple(c) for c in chosen["criteria"]],
        choices=chosen["choices"],
        methodology=methodology or chosen["methodology"],
        acting_user=olga,
    )
    return services.open_ballot(ballot=ballot, acting_user=olga)


def cast(ballot, voter, component, choice, rationale=""):
    return services.cast_vote(
        ballot=ballot,
        voter=voter,
        component=ballot.version.components.get(key=component),
        criterion=ballot.criteria.get(),
        choice=ballot.choices.get(key=choice),
        rationale=rationale,
    )


def outcome(ballot, component: str) -> dict:
    run = analysis.compute_run(ballot)
    return next(c for c in run.results["scenarios"][0]["components"] if c["key"] == component)


def test_the_new_ballot_form_starts_from_a_bodys_rules(client, olga, published, group, other_group):
    client.force_login(olga)

    page = client.get(url("ballot-create", "osd"), {"preset": "iesg-standards"})

    assert "Start from a body's rules" in text(page)
    form = page.context["form"]
    assert [row.initial["key"] for row in form.choice_rows.forms if row.initial] == [
        "yes",
        "no-objection",
        "discuss",
        "abstain",
        "recuse",
    ]
    assert json.loads(form.initial["methodology_json"]) == PRESETS["iesg-standards"]["methodology"]


def test_a_ballot_created_with_a_methodology_in_json_keeps_it(client, olga, published, group, other_group):
    client.force_login(olga)
    preset = PRESETS["iesg-informational"]
    choices = [{k: ("on" if v is True else str(v)) for k, v in c.items()} for c in preset["choices"]]
    form = {
        "title": "Informational",
        "key": "informational",
        "version": published.pk,
        "groups": [group.pk],
        **ballot_rows([("approve", "Approve")], choices),
        "eligibility": "frozen",
        "time_zone": "UTC",
        "results_visibility": "live",
        "rule": "majority",
        "threshold": "0.5",
        "methodology_json": json.dumps(preset["methodology"]),
        "k": "2",
        "seed": "42",
    }

    response = client.post(url("ballot-create", "osd"), form)

    assert response.status_code == 302, response.context["form"].errors
    assert Ballot.objects.get(key="informational").methodology == preset["methodology"]


@pytest.mark.parametrize(
    "methodology, error",
    [
        ("{not json", "This is not JSON: Expecting property name enclosed in double quotes at line 1, column 2."),
        ('["majority"]', "Write the methodology as a JSON object"),
        ('{"rule": "majority", "threshold": "2/3", "base": "voters"}', "base: The base of the ratio is one of"),
        (
            '{"rule": "majority", "groups": {"browsers": {"threshold": 0.5}}}',
            'groups.browsers: "browsers" is not a working group enrolled in the ballot.',
        ),
        ('{"rule": "majority", "threshold": 0.5, "for": ["ja"]}', 'for[0]: "ja" counted in favour is not a choice'),
    ],
)
def test_a_methodology_in_json_is_refused_at_its_field_naming_the_setting(
    client, olga, published, group, methodology, error
):
    client.force_login(olga)
    form = {
        "title": "Refused",
        "key": "refused",
        "version": published.pk,
        "groups": [group.pk],
        **ballot_rows([("use", "Use")], [{"key": "yes", "label": "Yes", "value": "1"}]),
        "eligibility": "frozen",
        "time_zone": "UTC",
        "results_visibility": "live",
        "rule": "majority",
        "threshold": "0.5",
        "methodology_json": methodology,
        "k": "2",
        "seed": "42",
    }

    response = client.post(url("ballot-create", "osd"), form)

    assert response.status_code == 200
    assert [m for m in response.context["form"].errors["methodology_json"] if error in m], response.context[
        "form"
    ].errors
    assert not Ballot.objects.filter(key="refused").exists()


def test_a_discuss_is_refused_without_its_reason_and_blocks_with_it(olga, alice, bob, dave, published, group):
    ballot = preset_ballot("iesg-standards", published, [group], olga)
    cast(ballot, alice, "code", "yes")

    with pytest.raises(ValidationError, match="rationale"):
        cast(ballot, bob, "code", "discuss")
    assert outcome(ballot, "code")["outcome"] == "Not approved"  # alice's Yes is one of weights' two members
    cast(ballot, bob, "code", "discuss", rationale="Section 3 contradicts RFC 9110.")

    found = outcome(ballot, "code")
    assert (found["outcome"], found["needs"]) == ("DISCUSS holds", "blocked: 1 vote blocking stands")


def test_a_recused_voter_leaves_the_base_of_the_eligible(olga, alice, bob, published, group):
    ballot = preset_ballot("iesg-standards", published, [group], olga)
    cast(ballot, alice, "code", "yes")
    assert (outcome(ballot, "code")["outcome"], outcome(ballot, "code")["needs"]) == (
        "Not approved",
        "needs 1 more in favour",
    )

    cast(ballot, bob, "code", "recuse")

    assert outcome(ballot, "code")["outcome"] == "Approved"  # 1 of the 1 not recused


CABF_BY_OUR_GROUPS = {
    "rule": "majority",
    "groups": {
        "weights": {"threshold": "2/3", "base": "cast", "at_least": 1},
        "corpora": {"threshold": "1/2", "strict": True, "base": "cast", "at_least": 1},
    },
    "quorum": {"count": 3, "abstentions": True},
}


@pytest.mark.parametrize(
    "preset, methodology, ballot_votes",
    [
        ("iesg-standards", None, [("alice", "code", "yes"), ("bob", "code", "recuse"), ("dave", "data", "abstain")]),
        ("iesg-informational", None, [("alice", "code", "no-objection"), ("dave", "code", "yes")]),
        ("cabf-ballot", CABF_BY_OUR_GROUPS, [("alice", "code", "yes"), ("bob", "code", "no"), ("dave", "code", "yes")]),
        ("osi-mean-bands", None, [("alice", "code", "required"), ("dave", "data", "abstain")]),
    ],
)
def test_a_bundle_of_each_rule_verifies_and_round_trips(
    tmp_path, olga, alice, bob, dave, published, group, other_group, preset, methodology, ballot_votes
):
    ballot = preset_ballot(preset, published, [group, other_group], olga, methodology)
    people = {"alice": alice, "bob": bob, "dave": dave}
    for voter, component, choice in ballot_votes:
        services.cast_vote(
            ballot=ballot,
            voter=people[voter],
            component=ballot.version.components.get(key=component),
            criterion=ballot.criteria.first(),
            choice=ballot.choices.get(key=choice),
        )
    services.close_ballot(ballot=ballot, acting_user=olga)
    bundle = tmp_path / "bundle.zip"
    bundles.export_bundle(ballot, bundle)

    verified = tally.verify(bundle)
    assert verified.ok, verified.lines()

    source = tmp_path / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
    (source / "manifest.json").unlink()
    exported = json.loads((source / "ballot.json").read_text())
    exported["definition"]["slug"] = "osd-copy"
    (source / "ballot.json").write_text(json.dumps(exported))
    call_command("import_tally", str(source), "--use-existing-accounts", stdout=StringIO())
    copy = Ballot.objects.get(definition__slug="osd-copy")
    bundles.export_bundle(copy, tmp_path / "copy.zip")

    assert tally.verify(tmp_path / "copy.zip").ok, tally.verify(tmp_path / "copy.zip").lines()
    with zipfile.ZipFile(tmp_path / "copy.zip") as archive, zipfile.ZipFile(bundle) as original:
        assert (
            json.loads(archive.read("outcomes.json"))["scenarios"]
            == json.loads(original.read("outcomes.json"))["scenarios"]
        )
    assert copy.methodology == ballot.methodology
