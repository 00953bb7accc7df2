"""Start the test provider: `python -m tests.sso.provider.serve PORT DATABASE`.

Makes its database, registers Plenary as a confidential client (CLIENT_ID, CLIENT_SECRET, authorization code with
PKCE, RS256 ID tokens, no consent screen) and the people of PEOPLE, prints "ready" and serves until killed.
"""

import os
import sys

PASSWORD = "provider-pass"
CLIENT_ID, CLIENT_SECRET = "plenary", "plenary-secret-of-the-test-provider"
# handle at the provider, e-mail address, whether the provider says it verified it
PEOPLE = [
    ("mara", "mara@example.org", True),  # someone new to Plenary
    ("ann", "ann@example.org", True),  # holds Plenary's account ann: her verified address signs her in there
    ("mallory", "ann@example.org", False),  # claims ann's address, which the provider never verified
    ("bob-elsewhere", "bob.elsewhere@example.org", True),  # bob's account at the provider, to link to his
    ("bоb", "bob.cyrillic@example.org", True),  # a handle with a Cyrillic о: looks like Plenary's bob
]


def main(port: int, database: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.provider.settings"
    import django
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = database
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    from .urls import VERIFIED_GROUP

    call_command("migrate", verbosity=0, interactive=False)
    verified = Group.objects.create(name=VERIFIED_GROUP)
    for username, email, is_verified in PEOPLE:
        user = User.objects.create_user(username, email, PASSWORD)
        if is_verified:
            user.groups.add(verified)
    Application.objects.create(
        name="Plenary",
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=f"http://127.0.0.1{'/accounts/oidc/idp/login/callback/'}",  # any port: urls.Validator
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    print("ready", flush=True)
    run("127.0.0.1", port, get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
