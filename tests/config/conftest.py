"""Fixtures shared by the site-wide tests."""

import pytest


@pytest.fixture
def open_ballot(published, group, olga):
    """An open ballot on `published` for `weights`, with its outcomes computed once."""
    from analysis import services as analysis
    from tests.votes.conftest import CHOICES, CRITERIA
    from votes import services

    ballot = services.open_ballot(
        ballot=services.create_ballot(
            version=published,
            key="components",
            title="Components",
            groups=[group],
            criteria=CRITERIA,
            choices=CHOICES,
            acting_user=olga,
        ),
        acting_user=olga,
    )
    analysis.compute_run(ballot)
    return ballot


@pytest.fixture(autouse=True)
def _github_offered(settings):
    """GitHub configured as a sign-in provider, as GITHUB_CLIENT_ID would (no request ever reaches it), so that the
    permission table can set it as a group's provider (deliberation:group-provider)."""
    settings.SOCIALACCOUNT_PROVIDERS = {"github": {"APPS": [{"client_id": "plenary-test", "secret": "s"}]}}
