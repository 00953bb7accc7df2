"""Signing in and up through a real OpenID Connect provider (tests/sso/provider/), and linking one to an account.

Plenary's side runs in Django's test client; the provider is a real server over HTTP, which Plenary asks for the
tokens and the person's claims as it would ask Keycloak. Which address signs in to which account is the rule of
docs/sign-in.md: the provider's address counts only where the provider says it verified it.
"""

import json

import environ
import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from config.sso import providers_from_env
from tests.factories import UserFactory

from .idp import PROVIDER_ID, through_provider

User = get_user_model()


def signed_in_as(client) -> str | None:
    user = client.get(reverse("home:home")).wsgi_request.user
    return user.get_username() if user.is_authenticated else None


def test_the_sign_in_and_sign_up_pages_offer_the_provider_as_a_form_that_starts_the_sign_in(client, sso):
    login_url = reverse("openid_connect_login", kwargs={"provider_id": PROVIDER_ID})
    sign_in = client.get(reverse("account_login")).content.decode()
    assert f'action="{login_url}"' in sign_in and "Sign in with Test IdP" in sign_in
    sign_up = client.get(reverse("account_signup")).content.decode()
    assert f'action="{login_url}"' in sign_up and "Sign up with Test IdP" in sign_up


def test_without_a_configured_provider_no_button_shows_and_an_app_in_the_database_is_not_offered(client, db):
    SocialApp.objects.create(provider="github", name="GitHub", client_id="from-the-admin", secret="s")
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with" not in page
    assert client.post(reverse("github_login")).status_code == 404  # allauth: no such app


def test_someone_new_signs_up_through_the_provider_and_lands_signed_in(client, sso):
    response = through_provider(client, sso, "mara")
    assert response.status_code == 302 and response["Location"] == "/"
    assert signed_in_as(client) == "mara"
    mara = User.objects.get(username="mara")
    assert SocialAccount.objects.get(user=mara).provider == PROVIDER_ID
    # the provider said it verified the address: no confirmation mail, the address is verified here too
    assert EmailAddress.objects.get(user=mara).verified
    assert mail.outbox == []


def test_an_address_the_provider_did_not_verify_does_not_sign_in_to_the_account_that_holds_it(client, sso):
    ann = UserFactory(username="ann")  # ann@example.org, verified here
    response = through_provider(client, sso, "mallory")  # claims ann@example.org, unverified at the provider
    assert signed_in_as(client) is None
    assert response.status_code == 302 and response["Location"] == reverse("account_email_verification_sent")
    assert not SocialAccount.objects.exists()  # linked to nobody, and no account made with ann's address
    assert list(User.objects.values_list("username", flat=True)) == ["ann"]
    ann.refresh_from_db()
    assert ann.has_usable_password()
    [told] = mail.outbox  # ann hears that someone tried to sign up with her address
    assert told.to == ["ann@example.org"] and "already" in told.body


def test_an_address_the_provider_verified_signs_in_to_the_account_that_holds_it_and_links_them(client, sso):
    ann = UserFactory(username="ann")
    response = through_provider(client, sso, "ann")
    assert response.status_code == 302
    assert signed_in_as(client) == "ann"
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == ann
    assert User.objects.count() == 1


def test_a_provider_configured_not_to_sign_in_by_address_asks_instead(client, sso, settings, monkeypatch):
    provider = json.loads(environ.Env().str("OIDC_PROVIDERS"))[0] | {"email_authentication": False}
    monkeypatch.setenv("OIDC_PROVIDERS", json.dumps([provider]))
    settings.SOCIALACCOUNT_PROVIDERS, _ = providers_from_env(environ.Env())
    UserFactory(username="ann")
    through_provider(client, sso, "ann")
    assert signed_in_as(client) is None
    assert not SocialAccount.objects.exists()


def test_bob_links_his_account_at_the_provider_on_the_connections_page_then_signs_in_with_it(client, sso, bob):
    client.force_login(bob)
    page = client.get(reverse("socialaccount_connections")).content.decode()
    assert "Link Test IdP" in page and 'name="process" value="connect"' in page
    response = through_provider(client, sso, "bob-elsewhere", process="connect")
    assert response.status_code == 302 and response["Location"] == reverse("socialaccount_connections")
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == bob
    assert "bob.elsewhere@example.org" in client.get(reverse("socialaccount_connections")).content.decode()
    client.logout()
    through_provider(client, sso, "bob-elsewhere")
    assert signed_in_as(client) == "bob"


def test_an_account_at_the_provider_links_to_one_account_only(client, sso, bob, carol):
    client.force_login(bob)
    through_provider(client, sso, "bob-elsewhere", process="connect")
    client.force_login(carol)
    through_provider(client, sso, "bob-elsewhere", process="connect")
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user == bob  # carol did not take it over
    assert signed_in_as(client) == "carol"


def test_a_handle_from_the_provider_that_looks_like_a_taken_one_is_chosen_again(client, sso, bob):
    response = through_provider(client, sso, "bоb")  # a Cyrillic о: looks like bob
    assert response.status_code == 302 and response["Location"] == reverse("socialaccount_signup")
    form = client.get(reverse("socialaccount_signup")).content.decode()
    assert "Choose your handle" in form
    refused = client.post(reverse("socialaccount_signup"), {"username": "bоb", "email": "bob.cyrillic@example.org"})
    assert "mixes Cyrillic and Latin" in refused.content.decode() or "looks like" in refused.content.decode()
    assert signed_in_as(client) is None
    done = client.post(reverse("socialaccount_signup"), {"username": "boris", "email": "bob.cyrillic@example.org"})
    assert done.status_code == 302
    assert signed_in_as(client) == "boris"
    assert SocialAccount.objects.get(provider=PROVIDER_ID).user.username == "boris"


@pytest.mark.parametrize(
    "providers, problem",
    [
        ("not json", "not JSON"),
        ('[{"id": "idp", "name": "IdP", "server_url": "https://id.example.org"}]', "lacks client_id, secret"),
        ('[{"id": "github", "name": "X", "server_url": "https://x", "client_id": "c", "secret": "s"}]', "not one of"),
        ('[{"id": "a", "name": "A", "server_url": "ftp://x", "client_id": "c", "secret": "s"}]', "http(s) address"),
    ],
)
def test_a_provider_configuration_that_cannot_be_right_stops_the_start_up(monkeypatch, providers, problem):
    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("OIDC_PROVIDERS", providers)
    with pytest.raises(ImproperlyConfigured, match=problem.replace("(", r"\(").replace(")", r"\)")):
        providers_from_env(environ.Env())


def test_github_and_gitlab_are_offered_when_configured(client, db, settings, monkeypatch):
    for name, value in {"GITHUB_CLIENT_ID": "gh", "GITHUB_SECRET": "s", "GITLAB_CLIENT_ID": "gl"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GITLAB_SECRET", "s")
    monkeypatch.setenv("GITLAB_URL", "https://git.example.org/")
    settings.SOCIALACCOUNT_PROVIDERS, origins = providers_from_env(environ.Env())
    assert origins == ["https://git.example.org", "https://github.com"]
    page = client.get(reverse("account_login")).content.decode()
    assert "Sign in with GitHub" in page and "Sign in with GitLab" in page
    start = client.post(reverse("gitlab_login"), {"process": "login"})
    assert start["Location"].startswith("https://git.example.org/oauth/authorize?")
