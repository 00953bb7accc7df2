"""A real OpenID Connect provider for the sign-in tests: django-oauth-toolkit with OIDC on, its RSA key made at start.

Started by tests/sso/conftest.py as a process of its own (`python -m tests.sso.provider.serve PORT DB`), on a free
port of 127.0.0.1, with one registered client (Plenary) and the people of `serve.PEOPLE`. Nothing of Plenary is
imported here: Plenary reaches it only over HTTP, as it would reach Keycloak or any other provider.
"""

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

SECRET_KEY = "only-for-the-test-provider-" + "x" * 30
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.sso.provider.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ""}}  # serve.py names the file
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/login/"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]

_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode(),
    "SCOPES": {"openid": "OpenID Connect", "profile": "Your name and handle", "email": "Your e-mail address"},
    "PKCE_REQUIRED": True,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["http"],  # Plenary's test servers speak plain HTTP on the loopback
    "OAUTH2_VALIDATOR_CLASS": "tests.sso.provider.urls.Validator",
}
