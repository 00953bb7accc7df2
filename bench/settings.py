"""Settings for the bench only: Plenary's own settings against a dedicated PostgreSQL database.

The bench process, the gunicorn it starts and the subprocesses it measures all use this module.
It changes nothing that a page or a vote depends on, only what a bench needs: its own database
(`BENCH_DATABASE_URL`, default `plenary_bench`, created and migrated by the bench), its own
URLconf (the product's URLs plus the trivial-insert baseline), plain HTTP on 127.0.0.1, a
broker that takes the recompute tasks a vote queues without a worker draining them
(`BENCH_BROKER_URL`: Redis when the bench finds it answering, else kombu's in-memory transport),
and no per-member limit on vote saves.
"""

import os

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/plenary_bench"

os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ["CELERY_BROKER_URL"] = os.environ.get("BENCH_BROKER_URL", "memory://")
os.environ.setdefault("SECRET_KEY", "bench-only-" + "b" * 50)
os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
os.environ["DEBUG"] = "false"
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ.setdefault("CONN_MAX_AGE", "60")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# The per-member limit on vote saves would refuse the bench's few hundred members casting as fast as they can:
# lifted here, so the figures measure casting itself (each save still counts in the cache, as in production).
os.environ["VOTE_RATE_LIMIT"] = "1000000/1m"
# One signing key for the bench's processes (its own, in var/), as production reads one from a file.
os.environ.setdefault(
    "AUDIT_LOG_KEY_FILE", os.path.join(os.path.dirname(os.path.dirname(__file__)), "var", "bench-log.key")
)
if not os.path.exists(os.environ["AUDIT_LOG_KEY_FILE"]):
    from plenary_tally import notes

    os.makedirs(os.path.dirname(os.environ["AUDIT_LOG_KEY_FILE"]), exist_ok=True)
    with open(os.environ["AUDIT_LOG_KEY_FILE"], "x") as key_file:
        key_file.write(notes.generate_signer("bench.localhost") + "\n")

from config.settings import *  # noqa: E402,F403
from config.settings import DATABASES, STORAGES  # noqa: E402

if os.environ.get("BENCH_STATEMENT_TIMEOUT"):  # the server the bench starts: no request runs for minutes
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c statement_timeout={os.environ['BENCH_STATEMENT_TIMEOUT']}"
    )

ROOT_URLCONF = "bench.urls"
# Plain HTTP on the loopback: the client sends its cookies itself.
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
# Static files from the apps, as in the tests: no collectstatic step before a bench.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("BENCH_QUEUE", "plenary-bench")  # never a real worker's queue here
