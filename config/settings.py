"""Plenary's one settings module. Every deploy-specific value comes from the environment.

With no environment at all Plenary runs embedded: SQLite under var/, Celery tasks run
eagerly in-process, e-mail goes to the console, and DEBUG is on. Setting DATABASE_URL
switches to production defaults: DEBUG off, and SECRET_KEY and ALLOWED_HOSTS required.
"""

import re
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from config.sso import providers_from_env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env")  # local convenience; real variables win

EMBEDDED = "DATABASE_URL" not in env
DEBUG = env.bool("DEBUG", default=EMBEDDED)


def _local_secret_key() -> str:
    """A development key kept in var/ (never committed), so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(exist_ok=True)
        path.write_text(get_random_secret_key())
    return path.read_text().strip()


if DEBUG:
    SECRET_KEY = env("SECRET_KEY", default=None) or _local_secret_key()
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
else:
    SECRET_KEY = env("SECRET_KEY")  # no default on purpose: a missing secret fails at start-up
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.gitlab",
    "django_htmx",
    "template_partials",
    "audit",
    "deliberation",
    "votes",
    "analysis",
    "notifications",
    "search",
    "tokens",
    "home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.middleware.RefuseNulInAddress",
    "config.middleware.DatabaseBusy",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The language of each answer: the one chosen with the switcher (its cookie), else the browser's Accept-Language,
    # else English. Where Django's docs put it: after the session, before CommonMiddleware.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'plenary.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0 if EMBEDDED else 60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while a write is in flight; IMMEDIATE avoids upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Votes wait in a queue for their place in the audit chain, which the sequencer gives them (`sequence_log`,
# docs/audit-log.md), so votes on one ballot do not wait for each other. PostgreSQL only; SQLite records inline.
AUDIT_QUEUE = env.bool("AUDIT_QUEUE", default=DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")

# Rate limits count in this cache: in production set CACHE_URL to Redis, so that every web worker shares the counts.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
ACCOUNT_USERNAME_MIN_LENGTH = 2
# allauth's rate limits ("amount/period/per"), refused with the 429 page or, for wrong passwords, a form error.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",  # every sign-in attempt from one address, right or wrong
    # Wrong passwords: 20 per address in 10 minutes, and 5 per account in 15 minutes, after which even the right
    # password waits (a password reset lifts it). A room of members mistyping gets by; guessing one account does not.
    "login_failed": "20/10m/ip,5/15m/key",
    # New accounts from one address: a workshop signing up together gets through in a few minutes, a script does not.
    "signup": "10/10m/ip",
}
ACCOUNT_ADAPTER = "config.accounts.AccountAdapter"  # handles (deliberation/handles.py) and the client's address
# Single sign-on (docs/sign-in.md): OpenID Connect providers (OIDC_PROVIDERS), GitHub and GitLab, each offered only
# when configured here from the environment (config/sso.py); apps stored in the database are not used.
SOCIALACCOUNT_PROVIDERS, SSO_ORIGINS = providers_from_env(env)
SOCIALACCOUNT_ADAPTER = "config.accounts.SocialAccountAdapter"  # handles from the provider, through our rules
# A provider's address signs in to the existing account that holds it only when the provider says it verified it
# (OIDC's email_verified, GitHub's verified flag; GitLab says nothing, so never); that account is then linked.
# An unverified address that an account holds gets no account: allauth mails that address that it is taken.
# An OIDC provider whose word on addresses is not to be relied on is configured with "email_authentication": false.
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False  # a sign-in starts from a form we post (CSRF-protected), never from a link
SOCIALACCOUNT_STORE_TOKENS = False  # we read who someone is once, and keep no access to their account elsewhere
# The client's address for those limits (config/proxy.py): the connection's, unless TRUSTED_PROXY_COUNT says how many
# proxies of ours append to X-Forwarded-For; then the hop the outermost of them appended. Behind a TLS proxy the
# number must be said: a header anyone can write is never trusted by default.
_proxies = env.str("TRUSTED_PROXY_COUNT", default="")
if not re.fullmatch(r"\d{0,2}", _proxies):
    raise ImproperlyConfigured(f"TRUSTED_PROXY_COUNT={_proxies!r}: expected a number of proxies, such as 1")
if BEHIND_TLS_PROXY and not _proxies:
    raise ImproperlyConfigured(
        "BEHIND_TLS_PROXY is set: set TRUSTED_PROXY_COUNT too, to the number of your proxies that append the "
        "client's address to X-Forwarded-For (1 for one nginx or Caddy in front), or 0 if yours does not. "
        "Keep the app's port reachable through the proxy alone: anyone who reaches it directly writes that header."
    )
TRUSTED_PROXY_COUNT = int(_proxies or 0)
RATELIMIT_IP_META_KEY = "config.proxy.client_address"  # django-ratelimit, should a limit ever count per address

# Vote saves (cast, change or withdraw, also on a member's behalf) per acting user, as django-ratelimit's
# "amount/period". 400 in 10 minutes fills a 50-component x 4-criteria grid twice over at a save every 1.5 s:
# faster than anyone choosing and tabbing by hand for ten minutes, while a script hammering the grid (each save
# is an audit event and a recompute) is stopped. Windows are fixed per user, so a burst across two may reach 2x.
VOTE_RATE_LIMIT = env("VOTE_RATE_LIMIT", default="400/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", VOTE_RATE_LIMIT):
    raise ImproperlyConfigured(f"VOTE_RATE_LIMIT={VOTE_RATE_LIMIT!r}: expected amount/period, such as 400/10m")
# Comment posts and edits per author, the same way. 20 in 10 minutes is a reply every 30 s for ten minutes, more
# than anyone writing by hand; each save renders its Markdown once, so a script cannot make the server render much.
COMMENT_RATE_LIMIT = env("COMMENT_RATE_LIMIT", default="20/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", COMMENT_RATE_LIMIT):
    raise ImproperlyConfigured(f"COMMENT_RATE_LIMIT={COMMENT_RATE_LIMIT!r}: expected amount/period, such as 20/10m")

# Requests made with one personal access token, the same way: every API request it authenticates, reads too. 600 in
# 10 minutes is one a second, more than an integration that mirrors a ballot needs; the writes count against the
# person's own limits above as well, exactly as on the pages.
API_TOKEN_RATE_LIMIT = env("API_TOKEN_RATE_LIMIT", default="600/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", API_TOKEN_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"API_TOKEN_RATE_LIMIT={API_TOKEN_RATE_LIMIT!r}: expected amount/period, such as 600/10m"
    )

# Witness cosignatures posted to /audit/log/cosignatures.json per client address, the same way. A witness posts one
# per new checkpoint of each stream it follows: 300 in 10 minutes is a checkpoint of 30 streams every minute.
COSIGNATURE_RATE_LIMIT = env("COSIGNATURE_RATE_LIMIT", default="300/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", COSIGNATURE_RATE_LIMIT):
    raise ImproperlyConfigured(
        f"COSIGNATURE_RATE_LIMIT={COSIGNATURE_RATE_LIMIT!r}: expected amount/period, such as 300/10m"
    )
# Inclusion and consistency proofs asked of /audit/log/ per client address: each reads the stream's event hashes
# up to the size asked (a second for a million), so a witness or a voter's checks fit, a flood does not.
PROOF_RATE_LIMIT = env("PROOF_RATE_LIMIT", default="600/10m")
if not re.fullmatch(r"[1-9]\d*/\d*[smhd]", PROOF_RATE_LIMIT):
    raise ImproperlyConfigured(f"PROOF_RATE_LIMIT={PROOF_RATE_LIMIT!r}: expected amount/period, such as 600/10m")

# Who may start a definition in the browser (and so become its first organizer): "verified", any account with a
# verified e-mail address; or "allowed", only the accounts an admin has given the permission "Can add definition"
# (deliberation | definition) in the Django admin, directly or through a group. Superusers always may.
DEFINITION_CREATORS = env.str("DEFINITION_CREATORS", default="verified")
if DEFINITION_CREATORS not in ("verified", "allowed"):
    raise ImproperlyConfigured(f"DEFINITION_CREATORS={DEFINITION_CREATORS!r}: expected verified or allowed")
# The name the site's e-mails greet and sign with (never the host name a request happened to use).
SITE_NAME = env.str("SITE_NAME", default="Plenary")
# The scheme and host of the site, for the links of e-mails written away from a request (a worker's).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")
# The audit log's signing key (docs/audit-log.md): a note signer key, "PRIVATE+KEY+<host>+<id>+<key>", made with
# `python -m analysis.tally keygen HOST`, either in AUDIT_LOG_KEY or in the file AUDIT_LOG_KEY_FILE names. Embedded,
# with neither, one is made into var/audit-log.key on first use, like the development SECRET_KEY; in production (a
# DATABASE_URL and DEBUG off) one is required. AUDIT_LOG_RETIRED_KEYS: the verifier keys of earlier signing keys,
# comma-separated, so that the checkpoints they signed still verify after a rotation.
AUDIT_LOG_KEY = env.str("AUDIT_LOG_KEY", default="")
AUDIT_LOG_KEY_FILE = env.str("AUDIT_LOG_KEY_FILE", default="")
AUDIT_LOG_RETIRED_KEYS = env.list("AUDIT_LOG_RETIRED_KEYS", default=[])
AUDIT_LOG_KEY_GENERATED = not (AUDIT_LOG_KEY or AUDIT_LOG_KEY_FILE)  # made on first use, into the file below
if AUDIT_LOG_KEY_GENERATED and not EMBEDDED and not DEBUG:
    raise ImproperlyConfigured(
        "The audit log needs its signing key: set AUDIT_LOG_KEY, or AUDIT_LOG_KEY_FILE to the file that holds it. "
        "Make one with `python -m analysis.tally keygen HOST` (docs/audit-log.md, “The log's key”)."
    )
if AUDIT_LOG_KEY_GENERATED:
    AUDIT_LOG_KEY_FILE = str(VAR_DIR / "audit-log.key")
# A notification a worker began to e-mail and did not finish (it was killed) is sent by another after this.
NOTIFICATION_LEASE_SECONDS = env.int("NOTIFICATION_LEASE_SECONDS", default=120)
# From this many recipients, a message is one announcement in the change's transaction, and a worker writes each
# recipient's notification: a ballot opening to thousands answers its organizer at once.
NOTIFICATION_ANNOUNCE_FROM = env.int("NOTIFICATION_ANNOUNCE_FROM", default=200)
# A mail server that refuses is tried again after about this many seconds, then twice as long each time (≤ 5 min).
NOTIFICATION_RETRY_BACKOFF_SECONDS = env.int("NOTIFICATION_RETRY_BACKOFF_SECONDS", default=5)

# Webhooks (docs/webhooks.md): an address that resolves to a loopback, private, link-local or otherwise non-public
# address is refused, when it is saved and again at each send, unless this is on (a receiver on the same network).
WEBHOOK_ALLOW_PRIVATE = env.bool("WEBHOOK_ALLOW_PRIVATE", default=False)
# Seconds a delivery may take to connect, and to answer (in all, however slowly a receiver trickles its answer).
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=10.0)

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Plenary <plenary@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL  # embedded: tasks run in-process
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Tasks are published from the web request once its change has committed: a broker that is down or does not
# answer must fail that quickly (the outcome stays stale), not hang the request. Redis ignores
# broker_connection_timeout and waits forever by default; a read timeout above the worker's 1 s BRPOP is safe.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_RESULT_BACKEND = None
# The queue tasks go to and workers read unless told otherwise: one per deployment where several share a Redis.
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="celery")

NINJA_PAGINATION_CLASS = "config.pagination.LimitOffset"  # the JSON API's lists: limit ≤ 500 and offset

# The interface's languages (docs/translating.md): each page in the one the visitor chose with the footer's switcher
# (Django's set_language, kept in a cookie), else the first of their browser's that we have, else LANGUAGE_CODE, the
# site's own language, in which notifications and e-mails are also written. Definitions stay as their authors wrote.
LANGUAGES = [("en", "English"), ("fr", "Français")]
LANGUAGE_CODE = env.str("LANGUAGE_CODE", default="en")
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE={LANGUAGE_CODE!r}: expected one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["config.formats"]  # how dates read in each language, beside Django's own formats
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = not DEBUG
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
# Every script and style comes from our own static files: no inline script, no CDN.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF, *SSO_ORIGINS],  # a sign-in form is redirected on to its provider
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
