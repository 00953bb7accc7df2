"""An observer downloads a ballot's tally bundle from its page, and the file verifies on its own."""

import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page

from votes import services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def voted(olga, published, group, other_group, alice, bob, dave):
    ballot = services.create_ballot(
        version=published,
        key="components",
        title="Component vote on 0.0.9",
        groups=[group, other_group],
        criteria=[("use", "Use"), ("study", "Study")],
        choices=[
            {"key": "required", "label": "Required", "value": 1},
            {"key": "not-necessary", "label": "Not necessary", "value": -1, "requires_grant": True},
        ],
        acting_user=olga,
    )
    services.open_ballot(ballot=ballot, acting_user=olga)
    veto = ballot.choices.get(key="not-necessary")
    services.grant_veto(ballot=ballot, choice=veto, group=group, reason='=HYPERLINK("x") charter', acting_user=olga)
    required = ballot.choices.get(key="required")
    for voter, component, criterion, choice, rationale in [
        (alice, "code", "use", required, "@SUM(1) looks like a formula"),
        (bob, "data", "study", veto, ""),
        (dave, "code", "study", required, "+1 from corpora"),
    ]:
        services.cast_vote(
            ballot=ballot,
            voter=voter,
            component=published.components.get(key=component),
            criterion=ballot.criteria.get(key=criterion),
            choice=choice,
            rationale=rationale,
        )
    services.raise_dispute(ballot=ballot, raised_by=dave, reason="No rationale.", voter=bob, choice=veto)
    return ballot


def test_an_observer_downloads_the_bundle_and_it_verifies_without_the_server(page: Page, voted, tmp_path):
    page.goto(voted.get_absolute_url())
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the tally bundle").click()
    bundle = tmp_path / download.value.suggested_filename
    download.value.save_as(bundle)

    env = {"PATH": "/usr/bin:/bin"}  # no Django settings, no database, the BLAS kernel of its own choosing
    result = subprocess.run(
        [str(Path(sys.executable).parent / "plenary-tally"), str(bundle), "--verify"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert bundle.name == "osd-components-tally.zip"
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1].startswith("verified:")
    assert "3 votes" in result.stdout
