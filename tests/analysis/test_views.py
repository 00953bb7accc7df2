"""The results page: outcomes, the scenario comparison with its flips, charts with tables, staleness."""

import csv
import io
import zipfile

import pytest
from django.urls import reverse

from analysis.models import OutcomeRun
from audit.models import head
from tests.client import HTMX
from votes import services
from votes.models import Ballot


def results_url(ballot: Ballot) -> str:
    return reverse("analysis:results", args=[ballot.definition.slug, ballot.key])


@pytest.fixture
def contested(ballot, olga, group, cast, alice, bob, dave, django_capture_on_commit_callbacks):
    """code gets 3 Required; data 2 Required and alice's undocumented veto, which bob disputes.

    All votes: code 3, data 2 − 1 = 1, μ = 2; code 3 ≥ 1.5μ → Lean yes, data 1 ≥ 0.5μ → Lean no.
    Without the disputed veto: data 2, μ = 2.5; data 2 ≥ 0.5μ = 1.25 → Lean no; code 3 ≥ 2.5 → Maybe:
    code flips because μ moved; with the baseline μ = 2 it stays Lean yes, and data becomes Maybe.
    """
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_veto(
            ballot=ballot,
            choice=ballot.choices.get(key="not-necessary"),
            member=alice,
            reason="Data steward.",
            acting_user=olga,
        )
        for voter in (alice, bob, dave):
            cast(voter, "code", "use", "required")
        cast(bob, "data", "use", "required")
        cast(dave, "data", "use", "required")
        cast(alice, "data", "study", "not-necessary")
        services.raise_dispute(
            ballot=ballot,
            raised_by=bob,
            reason="No rationale.",
            voter=alice,
            choice=ballot.choices.get(key="not-necessary"),
        )
    return ballot


def outcome_in(content: str, scenario: str) -> None:
    assert f"<code>{scenario}</code>" in content


def test_an_observer_sees_the_outcomes_and_what_flips_without_the_disputed_votes(client, contested):
    response = client.get(results_url(contested))

    content = response.content.decode()
    assert response.status_code == 200
    assert "These results are stale" not in content
    run = OutcomeRun.objects.get(ballot=contested, audit_seq=OutcomeRun.objects.latest_for(contested).audit_seq)
    flips = {(f["component"], f["to"]["scenario"], f["to"]["outcome"]) for f in run.results["flips"]}
    assert ("code", "without-disputed", "Maybe") in flips
    assert ("data", "without-disputed@baseline", "Maybe") in flips
    summary = content[content.index('id="summary"') : content.index('id="downloads-heading"')]
    assert (
        "<strong>Training code</strong>: "
        '<span class="outcome">Lean yes (3 votes)</span> — <span class="needs">1 vote changed would change its band'
        '</span>; <span class="flip">Maybe</span> without the 1 disputed vote' in summary
    )
    assert '<span class="flip">Maybe</span> without the 1 disputed vote, with the thresholds as cast' in summary
    assert "without-disputed" not in summary  # keys are for the bundle; the page says it in words
    assert '<th scope="col" data-scenario="without-disputed@baseline">' in content


def test_scores_and_mu_are_shown_as_decimals(client, contested):
    content = client.get(results_url(contested)).content.decode()

    run = OutcomeRun.objects.latest_for(contested)
    without_disputed = next(s for s in run.results["scenarios"] if s["key"] == "without-disputed")
    assert without_disputed["thresholds"] == {"mu": "5/2"}  # (3 + 2) / 2, exact in outcomes.json
    assert "μ = 2.5" in content and "5/2" not in content


def test_every_chart_has_a_table_beside_it(
    client, contested, cast, alice, bob, dave, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # the whole grid voted: every voter is placed
        cast(alice, "data", "use", "required")
        for voter in (alice, bob, dave):
            cast(voter, "code", "study", "required")
        for voter in (bob, dave):
            cast(voter, "data", "study", "required")
    content = client.get(results_url(contested)).content.decode()

    assert content.count("<svg viewBox") >= 3
    assert "Votes per component, by choice" in content and "As a table" in content
    assert "Opinion groups against working groups" in content
    assert "The grid is <strong>50% full</strong>: 12 of 24 cells voted" in content
    assert "3 voters placed." in content


def test_the_results_say_how_full_the_grid_is_and_who_is_not_placed(client, contested):
    content = client.get(results_url(contested)).content.decode()

    # 3 voters × 8 cells, 6 votes: with 3 of the cells voted on, a voter is placed from 3 votes; nobody has 3
    assert "The grid is <strong>25% full</strong>: 6 of 24 cells voted" in content
    assert "0 voters placed; 3 with fewer than 3 votes are not." in content
    assert "No opinion groups: fewer than three voters with enough votes to place." in content
    assert "Opinion groups against working groups" not in content


def test_the_results_tell_an_observer_how_to_verify_the_download(client, contested):
    content = client.get(results_url(contested)).content.decode()

    assert "pip install http://testserver/tally/plenary-tally.zip" in content
    assert f"--verify --expect-head {head(contested.audit_stream)}" in content
    assert 'href="/tally/format/"' in content


def test_the_verifier_downloads_as_an_installable_zip_of_the_core_alone(client):
    response = client.get(reverse("analysis:verifier-download"))

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        names = archive.namelist()
        assert "plenary-tally/pyproject.toml" in names and "plenary-tally/plenary_tally/verification.py" in names
        assert all(name.startswith("plenary-tally/") for name in names)
        assert not any("django" in archive.read(n).decode() for n in names if n.endswith(".py"))


def test_the_tally_format_is_a_page(client):
    content = client.get(reverse("analysis:tally-format")).content.decode()

    assert "The tally bundle, format" in content and "plenary-tally" in content


def test_a_stale_result_says_so_and_polls_until_the_new_run_lands(
    client, contested, cast, bob, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as queued:  # committed, its recompute queued but not run yet
        cast(bob, "code", "study", "required")

    stale = client.get(results_url(contested)).content.decode()
    assert "These results are stale" in stale
    assert 'hx-trigger="every 2s"' in stale

    for recompute in queued:  # the worker gets to it
        recompute()
    fresh = client.get(results_url(contested), headers=HTMX)

    assert b"<html" not in fresh.content
    assert b'id="results"' in fresh.content
    assert b"These results are stale" not in fresh.content
    assert b"every 2s" not in fresh.content  # the swap replaces the polling element: polling stops


def test_results_published_after_close_are_hidden_until_then(client, olga, published, group):
    from tests.votes.conftest import CHOICES, CRITERIA

    ballot = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )

    response = client.get(results_url(ballot))

    assert "published when voting closes" in response.content.decode()
    assert b"Scenario comparison" not in response.content


def test_the_results_page_needs_the_same_queries_however_many_votes(
    client, contested, cast, alice, bob, dave, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    limit = 12  # the ballot, its run, components, groups, criteria, choices, and the user's standing
    client.get(results_url(contested))
    with django_assert_max_num_queries(limit) as small:
        client.get(results_url(contested))
    with django_capture_on_commit_callbacks(execute=True):
        for voter in (alice, bob, dave):
            for criterion in ("study", "modify", "share"):
                cast(voter, "code", criterion, "required")
    client.get(results_url(contested))

    with django_assert_max_num_queries(limit) as large:
        client.get(results_url(contested))
    assert len(large) == len(small), "\n".join(q["sql"] for q in large.captured_queries)


def summary_of(content: str) -> str:
    return content[content.index('id="summary"') : content.index('id="downloads-heading"')]


def test_the_summary_says_no_votes_yet_and_only_abstentions_instead_of_a_score(
    client, ballot, cast, bob, dave, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        cast(bob, "code", "use", "abstain")
        cast(dave, "code", "study", "abstain")

    content = client.get(results_url(ballot)).content.decode()

    summary = summary_of(content)
    assert "<strong>Training code</strong>: " in summary
    assert "Only abstentions (2 votes), which scores 0:" in summary
    assert "<strong>Training data</strong>: " in summary and "No votes yet, which scores 0:" in summary
    assert "None" not in content  # neither "score None" nor any other
    assert "No votes</span>" in content and "Only abstentions</span>" in content  # the scenario table says so too


def test_the_page_names_groups_and_scenarios_in_words_and_keeps_the_keys_for_the_bundle(client, contested):
    content = client.get(results_url(contested)).content.decode()

    assert "Without the restricted (grant-only) votes, with the thresholds as cast" in content
    assert '<th scope="col" data-group="corpora">Corpora</th>' in content
    assert "<code>without-group:corpora@baseline</code> — Without Corpora, with the thresholds as cast" in content


def test_the_chosen_k_is_explained_beside_the_silhouettes(client, contested):
    content = client.get(results_url(contested)).content.decode()

    assert '<p id="why-k">k = 2 was chosen because the ballot’s clustering settings fix it at 2' in content


def results_csv_url(ballot: Ballot) -> str:
    return reverse("analysis:results-csv", args=[ballot.definition.slug, ballot.key])


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_results_download_as_csv_one_row_per_component_and_scenario(client, contested):
    response = client.get(results_csv_url(contested))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="osd-components-results.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    run = OutcomeRun.objects.latest_for(contested)
    assert len(rows) == len(run.results["scenarios"]) * 3  # code, data, all-data
    code = next(r for r in rows if r["scenario"] == "without-disputed" and r["component"] == "code")
    assert code == {
        "scenario": "without-disputed",
        "scenario_title": "Without the disputed votes",
        "component": "code",
        "component_title": "Training code",
        "outcome": "Maybe",
        "score": "3",
        "margin": code["margin"],
        "votes": "3",
    }
    data = next(r for r in rows if r["scenario"] == "all" and r["component"] == "all-data")
    assert data["component_title"] == "All data" and data["score"] == "1" and data["votes"] == "3"


def test_the_results_csv_neutralises_what_a_spreadsheet_would_run(client, contested):
    contested.version.components.filter(key="code").update(title='=HYPERLINK("http://evil")')

    rows = csv_rows(client.get(results_csv_url(contested)))

    assert {r["component_title"] for r in rows if r["component"] == "code"} == {'\'=HYPERLINK("http://evil")'}


def test_the_results_csv_of_a_sealed_ballot_is_refused_as_its_page_hides_them(client, olga, published, group):
    from tests.votes.conftest import CHOICES, CRITERIA

    ballot = services.create_ballot(
        version=published,
        key="sealed",
        title="Sealed",
        groups=[group],
        criteria=CRITERIA,
        choices=CHOICES,
        results_visibility=Ballot.Visibility.AFTER_CLOSE,
        acting_user=olga,
    )

    response = client.get(results_csv_url(ballot))

    assert response.status_code == 403
    assert b"Training code" not in response.content
    assert "published when voting closes" in client.get(results_url(ballot)).content.decode()


def test_the_results_csv_counts_a_vote_the_stored_run_has_not_read_yet(client, contested, cast, bob):
    cast(bob, "code", "study", "required")  # its recompute waits for a commit that never comes in this test

    rows = csv_rows(client.get(results_csv_url(contested)))

    code = next(r for r in rows if r["scenario"] == "all" and r["component"] == "code")
    assert (code["score"], code["votes"]) == ("4", "4")
