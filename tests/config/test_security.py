"""Headers and markup that keep scripts ours alone: a Content-Security-Policy with no inline script."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def pages(open_ballot, draft, group):
    ballot = open_ballot
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


def production_env(tmp_path: Path) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'deploy.sqlite3'}",
        "SECRET_KEY": "a-long-random-production-secret-" + "k" * 40 + "-9f3a",
        "ALLOWED_HOSTS": "plenary.example.org",
        "AUDIT_LOG_KEY": "PRIVATE+KEY+127.0.0.1:8000+9fddd7ef+AXIx0tEZIQ19HN3PLEeZ98WSBzJj27gV1P8jgl7OObkj",
    }


def test_the_deploy_checks_pass_under_production_settings(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# What a browser gets from production settings: the sign-in page over plain HTTP and over HTTPS, and a session
# saved by Django's own middleware (only the sessions table is migrated, to keep this quick).
RESPONSES_PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.management import call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings

call_command("migrate", "sessions", verbosity=0)
client = Client(HTTP_HOST="plenary.example.org")
unhashed = {**settings.STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
with override_settings(STORAGES=unhashed):  # no collectstatic here: static URLs without the manifest
    plain = client.get("/accounts/login/")
    page = client.get("/accounts/login/", secure=True)

def signed_in(request):
    request.session["_auth_user_id"] = "1"
    return HttpResponse()

session = SessionMiddleware(signed_in)(RequestFactory(HTTP_HOST="plenary.example.org").get("/", secure=True))

def cookie(response, name):
    morsel = response.cookies[name]
    return {"secure": bool(morsel["secure"]), "httponly": bool(morsel["httponly"]), "samesite": morsel["samesite"]}

print(json.dumps({
    "plain": [plain.status_code, plain.get("Location")],
    "https": page.status_code,
    "hsts": page.get("Strict-Transport-Security"),
    "csrf": cookie(page, settings.CSRF_COOKIE_NAME),
    "session": cookie(session, settings.SESSION_COOKIE_NAME),
}))
"""


def test_production_cookies_are_secure_and_https_is_enforced_for_a_year_and_preloadable(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", RESPONSES_PROBE],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)

    assert seen["plain"] == [301, "https://plenary.example.org/accounts/login/"]
    assert seen["https"] == 200
    hsts = dict(part.strip().partition("=")[::2] for part in seen["hsts"].split(";"))
    assert int(hsts["max-age"]) >= 365 * 24 * 3600
    assert "includeSubDomains" in hsts and "preload" in hsts
    assert seen["session"] == {"secure": True, "httponly": True, "samesite": "Lax"}
    assert seen["csrf"]["secure"] is True and seen["csrf"]["samesite"] == "Lax"
