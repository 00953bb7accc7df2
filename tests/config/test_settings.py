"""The settings module read with exactly the environment given: the embedded default, and production's demands."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from tests.config.settings_read import settings_with

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {"DATABASE_URL": "postgres://u@127.0.0.1/x", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "example.org"}


def test_with_no_environment_plenary_starts_embedded_in_a_fresh_interpreter(tmp_path):
    probe = (
        "import json, django; from django.conf import settings; django.setup(); "
        "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'debug': settings.DEBUG, "
        "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
        "'email': settings.EMAIL_BACKEND}))"
    )
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["eager"] is True and seen["broker"] == ""
    assert seen["debug"] is True
    assert seen["email"] == "django.core.mail.backends.console.EmailBackend"
    # the same reading as the in-process one every other test here relies on
    embedded = settings_with({})
    assert (embedded.DATABASES["default"]["ENGINE"], embedded.DEBUG, embedded.CELERY_BROKER_URL) == (
        seen["engine"],
        seen["debug"],
        seen["broker"],
    )


def test_production_without_a_secret_key_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        settings_with({"DATABASE_URL": "postgres://u@127.0.0.1/x", "ALLOWED_HOSTS": "example.org"})


def test_production_without_allowed_hosts_fails_loudly():
    with pytest.raises(ImproperlyConfigured, match="ALLOWED_HOSTS"):
        settings_with({"DATABASE_URL": "postgres://u@127.0.0.1/x", "SECRET_KEY": "s" * 50})


def test_database_and_broker_urls_switch_to_postgresql_and_a_real_worker():
    env = {
        "DATABASE_URL": "postgres://plenary@127.0.0.1:5432/plenary",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "plenary.example.org",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "AUDIT_LOG_KEY_FILE": "/run/secrets/audit-log.key",
    }
    seen = settings_with(env)

    assert seen.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert seen.DEBUG is False
    assert seen.CELERY_TASK_ALWAYS_EAGER is False and seen.CELERY_BROKER_URL == "redis://127.0.0.1:6379/0"
    assert seen.ALLOWED_HOSTS == ["plenary.example.org"]


def test_production_without_the_audit_log_s_key_fails_loudly_and_says_how_to_make_one():
    with pytest.raises(ImproperlyConfigured) as missing:
        settings_with(PRODUCTION)
    given = settings_with(PRODUCTION | {"AUDIT_LOG_KEY": "PRIVATE+KEY+example.org+00000000+AA"})
    debugging = settings_with(PRODUCTION | {"DEBUG": "true"})

    assert "The audit log needs its signing key: set AUDIT_LOG_KEY" in str(missing.value)
    assert "python -m analysis.tally keygen HOST" in str(missing.value)
    assert given.AUDIT_LOG_KEY.startswith("PRIVATE+KEY+")
    assert debugging.AUDIT_LOG_KEY_GENERATED  # a key is then made into var/ on first use
