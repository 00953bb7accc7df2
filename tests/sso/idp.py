"""A real OpenID Connect provider for the sign-in tests, and Plenary configured to sign in through it.

The fixtures are shared from tests/conftest.py, so one provider serves the whole run (the browser tests too).

`idp` starts the provider of tests/sso/provider/ (django-oauth-toolkit) as a process of its own on a free port,
once per run; `sso` configures Plenary as OIDC_PROVIDERS would (config/sso.py), with the provider's id "idp".
`through_provider` goes through a whole sign-in with Django's test client on Plenary's side and a plain HTTP
session on the provider's, as a browser would: Plenary's form, the provider's sign-in, the code sent back.
"""

import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import environ
import pytest
import requests
from django.urls import reverse

from config.sso import providers_from_env
from tests.mail import free_port

from .provider.serve import CLIENT_ID, CLIENT_SECRET, PASSWORD

ROOT = Path(__file__).resolve().parents[2]
PROVIDER_ID, PROVIDER_NAME = "idp", "Test IdP"


@pytest.fixture(scope="session")
def idp(tmp_path_factory):
    port = free_port()
    database = tmp_path_factory.mktemp("idp") / "idp.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.sso.provider.serve", str(port), str(database)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "ready" once migrated and its people registered
        assert line.strip() == "ready", f"the test provider did not start: {line!r}"
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):  # then the server binds its port
            try:
                requests.get(f"{url}/o/.well-known/openid-configuration", timeout=2).raise_for_status()
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield SimpleNamespace(url=url, server_url=f"{url}/o")
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def sso(db, settings, monkeypatch, idp):
    """Plenary with the test provider configured from the environment, as a deployment would configure it."""
    provider = {
        "id": PROVIDER_ID,
        "name": PROVIDER_NAME,
        "server_url": idp.server_url,
        "client_id": CLIENT_ID,
        "secret": CLIENT_SECRET,
    }
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([provider]))
    settings.SOCIALACCOUNT_PROVIDERS, origins = providers_from_env(environ.Env())
    policy = settings.CONTENT_SECURITY_POLICY
    directives = policy["DIRECTIVES"] | {"form-action": [*policy["DIRECTIVES"]["form-action"], *origins]}
    settings.CONTENT_SECURITY_POLICY = policy | {"DIRECTIVES": directives}
    return idp


def through_provider(client, idp, username: str, *, process: str = "login", password: str = PASSWORD):
    """Sign in at the provider as `username` from Plenary's provider button; Plenary's answer to the callback."""
    start = client.post(reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID}), {"process": process})
    assert start.status_code == 302, start.content[:500]
    authorize = start["Location"]
    assert authorize.startswith(idp.url), authorize
    at_provider = requests.Session()
    to_sign_in = at_provider.get(authorize, allow_redirects=False, timeout=10)
    assert to_sign_in.status_code == 302 and "/login/" in to_sign_in.headers["Location"], to_sign_in.text[:500]
    next_url = parse_qs(urlsplit(to_sign_in.headers["Location"]).query)["next"][0]
    signed_in = at_provider.post(
        f"{idp.url}/login/",
        {"username": username, "password": password, "next": next_url},
        allow_redirects=False,
        timeout=10,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    back = at_provider.get(idp.url + signed_in.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302, back.text[:500]
    callback = urlsplit(back.headers["Location"])
    assert callback.path == f"/accounts/oidc/{PROVIDER_ID}/login/callback/" and "code=" in callback.query, callback
    return client.get(f"{callback.path}?{callback.query}")
