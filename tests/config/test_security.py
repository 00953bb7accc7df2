"""Headers and markup that keep scripts ours alone: a Content-Security-Policy with no inline script."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pages(published, draft, group, olga):
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
    return [
        reverse("deliberation:definition-list"),
        reverse("deliberation:definition", args=["osd"]),
        reverse("deliberation:version", args=["osd", "0.0.9"]),
        reverse("deliberation:version", args=["osd", "0.0.10"]),
        reverse("deliberation:diff", args=["osd"]),
        reverse("deliberation:group", args=["osd", group.key]),
        reverse("votes:ballot", args=["osd", ballot.key]),
        reverse("votes:roll-call", args=["osd", ballot.key]),
        reverse("votes:grants", args=["osd", ballot.key]),
        reverse("votes:disputes", args=["osd", ballot.key]),
        reverse("analysis:results", args=["osd", ballot.key]),
        reverse("audit:log"),
    ]


ACCOUNT_PAGES = ["account_login", "account_signup", "account_reset_password"]


def responses(client, olga, pages):
    """Each page as the organizer sees it, then the account pages as a newcomer does."""
    client.force_login(olga)
    for path in pages:
        yield path, client.get(path)
    client.logout()
    for name in ACCOUNT_PAGES:
        yield name, client.get(reverse(name))


def test_every_page_forbids_inline_and_foreign_scripts(client, olga, pages):
    for path, response in responses(client, olga, pages):
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy, path
        assert "frame-ancestors 'none'" in policy, path


def test_no_page_carries_an_inline_script_handler_or_style(client, olga, pages):
    for path, response in responses(client, olga, pages):
        html = response.content.decode()
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert scripts and all("src=" in tag for tag in scripts), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert not re.search(r"\sstyle\s*=", html), path


def test_the_deploy_checks_pass_under_production_settings(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "SECRET_KEY": "a-long-random-production-secret-" + "k" * 40 + "-9f3a",
        "ALLOWED_HOSTS": "plenary.example.org",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
