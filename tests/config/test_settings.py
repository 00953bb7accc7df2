"""The settings module read in fresh interpreters, with exactly the environment given."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], 'debug': settings.DEBUG, "
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': settings.CELERY_BROKER_URL, "
    "'email': settings.EMAIL_BACKEND, 'hosts': settings.ALLOWED_HOSTS}))"
)


def settings_with(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings"}
    return subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=base | env, capture_output=True, text=True, timeout=60
    )


def test_with_no_environment_plenary_runs_embedded(tmp_path):
    result = settings_with({}, tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["engine"] == "django.db.backends.sqlite3"
    assert seen["eager"] is True and seen["broker"] == ""
    assert seen["debug"] is True
    assert seen["email"] == "django.core.mail.backends.console.EmailBackend"


def test_production_without_a_secret_key_fails_loudly(tmp_path):
    result = settings_with({"DATABASE_URL": "postgres://u@127.0.0.1/x", "ALLOWED_HOSTS": "example.org"}, tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_without_allowed_hosts_fails_loudly(tmp_path):
    result = settings_with({"DATABASE_URL": "postgres://u@127.0.0.1/x", "SECRET_KEY": "s" * 50}, tmp_path)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS" in result.stderr


def test_database_and_broker_urls_switch_to_postgresql_and_a_real_worker(tmp_path):
    env = {
        "DATABASE_URL": "postgres://plenary@127.0.0.1:5432/plenary",
        "SECRET_KEY": "s" * 50,
        "ALLOWED_HOSTS": "plenary.example.org",
        "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        "AUDIT_LOG_KEY_FILE": "/run/secrets/audit-log.key",
    }
    result = settings_with(env, tmp_path)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen["engine"] == "django.db.backends.postgresql"
    assert seen["debug"] is False
    assert seen["eager"] is False and seen["broker"] == "redis://127.0.0.1:6379/0"
    assert seen["hosts"] == ["plenary.example.org"]


def test_production_without_the_audit_log_s_key_fails_loudly_and_says_how_to_make_one(tmp_path):
    env = {"DATABASE_URL": "postgres://u@127.0.0.1/x", "SECRET_KEY": "s" * 50, "ALLOWED_HOSTS": "example.org"}

    missing = settings_with(env, tmp_path)
    given = settings_with(env | {"AUDIT_LOG_KEY": "PRIVATE+KEY+example.org+00000000+AA"}, tmp_path)
    debugging = settings_with(env | {"DEBUG": "true"}, tmp_path)

    assert missing.returncode != 0
    assert "The audit log needs its signing key: set AUDIT_LOG_KEY" in missing.stderr
    assert "python -m analysis.tally keygen HOST" in missing.stderr
    assert given.returncode == 0, given.stderr
    assert debugging.returncode == 0, debugging.stderr  # a key is then made into var/ on first use
