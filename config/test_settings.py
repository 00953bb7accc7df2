"""Test settings: the real settings with a few overrides for speed and isolation."""

import os

os.environ.setdefault("SECRET_KEY", "only-for-tests-" + "x" * 40)
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")
os.environ.setdefault("DEBUG", "false")
# The audit log's signing key, fixed for tests (its verifier: TEST_LOG_VERIFIER_KEY); named for the default SITE_URL.
TEST_LOG_KEY = "PRIVATE+KEY+127.0.0.1:8000+9fddd7ef+AXIx0tEZIQ19HN3PLEeZ98WSBzJj27gV1P8jgl7OObkj"
TEST_LOG_VERIFIER_KEY = "127.0.0.1:8000+9fddd7ef+AfHbfuIipa7l96PU4rDChL10tW04KGLHqG7HoCSx40Xh"
os.environ.setdefault("AUDIT_LOG_KEY", TEST_LOG_KEY)

from .settings import *  # noqa: E402,F403
from .settings import DATABASES, STORAGES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = False
SECURE_SSL_REDIRECT = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": None}  # in memory
# Votes recorded inline, as on SQLite; the sequencer's tests turn the queue on (AUDIT_QUEUE_IN_TESTS=true: everywhere).
AUDIT_QUEUE = os.environ.get("AUDIT_QUEUE_IN_TESTS", "").lower() in ("1", "true", "yes")
WHITENOISE_USE_FINDERS = True  # serve static files straight from the apps, no collectstatic
WHITENOISE_AUTOREFRESH = True
