"""Single sign-on providers from the environment, as allauth's `SOCIALACCOUNT_PROVIDERS` (docs/sign-in.md).

Read once by settings.py; nothing here touches the database, so a provider lives in the environment and in no
admin page. A provider is offered only when it is configured:

- `OIDC_PROVIDERS`: a JSON list of OpenID Connect providers, each
  `{"id", "name", "server_url", "client_id", "secret"}` and optionally `"email_authentication": false` (do not let
  this provider's verified addresses sign in to an existing account) and `"pkce": false`;
- `GITHUB_CLIENT_ID` and `GITHUB_SECRET`;
- `GITLAB_CLIENT_ID` and `GITLAB_SECRET`, with `GITLAB_URL` for a GitLab of your own (default https://gitlab.com).

A value that cannot be right (bad JSON, a missing key, an id taken twice) stops the start-up with what is expected.
"""

import json
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

OIDC_KEYS = ("id", "name", "server_url", "client_id", "secret")
OIDC_OPTIONS = ("email_authentication", "pkce")
RESERVED_IDS = ("github", "gitlab", "openid_connect")  # allauth's provider ids: an OIDC id may not shadow them
GITHUB_URL = "https://github.com"
GITLAB_URL = "https://gitlab.com"


def _origin(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ImproperlyConfigured(f"{what}={url!r}: expected an http(s) address, such as https://id.example.org")
    return f"{parts.scheme}://{parts.netloc}"


def oidc_apps(raw: str) -> list[dict]:
    """`OIDC_PROVIDERS` as allauth's APPS of the openid_connect provider."""
    try:
        providers = json.loads(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"OIDC_PROVIDERS is not JSON ({exc}): expected a list of providers") from exc
    if not isinstance(providers, list) or not all(isinstance(p, dict) for p in providers):
        raise ImproperlyConfigured('OIDC_PROVIDERS: expected a list of {"id", "name", "server_url", ...} objects')
    apps, seen = [], set()
    for provider in providers:
        missing = [k for k in OIDC_KEYS if not isinstance(provider.get(k), str) or not provider[k].strip()]
        if missing:
            raise ImproperlyConfigured(f"OIDC_PROVIDERS: a provider lacks {', '.join(missing)} (each is a string)")
        unknown = set(provider) - set(OIDC_KEYS) - set(OIDC_OPTIONS)
        if unknown:
            raise ImproperlyConfigured(f"OIDC_PROVIDERS: unknown key {', '.join(sorted(unknown))}")
        pid = provider["id"]
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,29}", pid) or pid in RESERVED_IDS:
            raise ImproperlyConfigured(
                f"OIDC_PROVIDERS: id {pid!r} must be lower-case letters, digits and hyphens (at most 30), "
                f"and not one of {', '.join(RESERVED_IDS)}; it is part of the callback address"
            )
        if pid in seen:
            raise ImproperlyConfigured(f"OIDC_PROVIDERS: id {pid!r} is given twice")
        seen.add(pid)
        _origin(provider["server_url"], f"OIDC_PROVIDERS {pid} server_url")
        apps.append(
            {
                "provider_id": pid,
                "name": provider["name"],
                "client_id": provider["client_id"],
                "secret": provider["secret"],
                "settings": {
                    "server_url": provider["server_url"].rstrip("/"),
                    "oauth_pkce_enabled": bool(provider.get("pkce", True)),
                    "email_authentication": bool(provider.get("email_authentication", True)),
                },
            }
        )
    return apps


def providers_from_env(env) -> tuple[dict, list[str]]:
    """`SOCIALACCOUNT_PROVIDERS`, and the origins a sign-in form is sent on to (the CSP's form-action)."""
    providers: dict = {}
    origins: list[str] = []
    if apps := oidc_apps(env.str("OIDC_PROVIDERS", default="") or "[]"):
        providers["openid_connect"] = {"APPS": apps}
        origins += [_origin(a["settings"]["server_url"], "server_url") for a in apps]
    if (github := env.str("GITHUB_CLIENT_ID", default="")) or env.str("GITHUB_SECRET", default=""):
        providers["github"] = {
            "APPS": [{"client_id": github, "secret": env.str("GITHUB_SECRET")}],
            "SCOPE": ["read:user", "user:email"],  # user:email: the addresses with GitHub's `verified` flag
        }
        origins.append(GITHUB_URL)
    if (gitlab := env.str("GITLAB_CLIENT_ID", default="")) or env.str("GITLAB_SECRET", default=""):
        url = env.str("GITLAB_URL", default=GITLAB_URL).rstrip("/")
        providers["gitlab"] = {
            "APPS": [
                {
                    "client_id": gitlab,
                    "secret": env.str("GITLAB_SECRET"),
                    "settings": {"gitlab_url": url, "oauth_pkce_enabled": True},
                }
            ],
            "SCOPE": ["read_user"],
        }
        origins.append(_origin(url, "GITLAB_URL"))
    for name, provider in providers.items():
        if any(not app["client_id"] for app in provider["APPS"]):
            raise ImproperlyConfigured(f"{name.upper()}_CLIENT_ID is missing beside its secret")
    return providers, sorted(set(origins))
