"""Rate limits on signing in, signing up and saving votes, through allauth's real forms and the settings module.

The numbers are the ones config/settings.py documents, written out here so that raising a limit fails a test.
Counts live in the cache, which tests/conftest.py clears before each test; the test client comes from 127.0.0.1.
"""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from tests.config.settings_read import settings_with
from tests.factories import PASSWORD, UserFactory

TOO_MANY_PAGE = "<h1>Too many requests</h1>"
TOO_MANY_FAILURES = "Too many failed login attempts. Try again later."
WRONG = "The username and/or password you specified are not correct."


def sign_in(client, login: str, password: str):
    return client.post(reverse("account_login"), {"login": login, "password": password})


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def sign_up(client, n: int):
    return client.post(
        reverse("account_signup"),
        {"email": f"newcomer{n}@example.org", "username": f"newcomer{n}", "password1": PASSWORD, "password2": PASSWORD},
    )


def test_a_sixth_wrong_password_for_one_account_in_15_minutes_locks_it_even_to_the_right_one(client, alice, bob):
    for _ in range(5):
        response = sign_in(client, "bob", "not his password")
        assert response.status_code == 200 and WRONG in response.content.decode()

    response = sign_in(client, "bob", PASSWORD)

    assert response.status_code == 200
    assert TOO_MANY_FAILURES in response.content.decode()
    assert not signed_in(client)
    assert sign_in(client, "alice@example.org", PASSWORD).status_code == 302  # another account is not locked
    assert signed_in(client)


def test_twenty_wrong_passwords_from_one_address_in_10_minutes_stop_it_signing_in_to_any_account(client, bob):
    for n in range(20):
        assert WRONG in sign_in(client, f"guess{n}", "password").content.decode()

    response = sign_in(client, "bob", PASSWORD)

    assert TOO_MANY_FAILURES in response.content.decode()
    assert not signed_in(client)


def test_the_31st_sign_in_attempt_from_one_address_in_a_minute_gets_the_429_page(client, bob):
    for _ in range(30):
        assert sign_in(client, "", "").status_code == 200  # incomplete forms count too

    response = sign_in(client, "bob", PASSWORD)

    assert response.status_code == 429
    assert TOO_MANY_PAGE in response.content.decode()
    assert not signed_in(client)


def test_the_11th_sign_up_from_one_address_in_10_minutes_gets_the_429_page_and_creates_nothing(client, db):
    for n in range(10):
        assert sign_up(client, n).status_code == 302
    assert get_user_model().objects.count() == 10
    sent = len(mail.outbox)

    response = sign_up(client, 10)

    assert response.status_code == 429
    assert TOO_MANY_PAGE in response.content.decode()
    assert "try again" in response.content.decode()
    assert not get_user_model().objects.filter(username="newcomer10").exists()
    assert not EmailAddress.objects.filter(email="newcomer10@example.org").exists()
    assert len(mail.outbox) == sent


def test_a_right_password_does_not_count_against_the_account(client, db):
    UserFactory(username="erin")
    for _ in range(6):
        assert sign_in(client, "erin", PASSWORD).status_code == 302
        client.logout()


# The settings module, read with exactly the environment given ---------------------------------------------------


def test_votes_are_limited_to_400_saves_in_10_minutes_unless_the_environment_says_otherwise():
    assert settings_with({}).VOTE_RATE_LIMIT == "400/10m"
    assert settings_with({"VOTE_RATE_LIMIT": "900/h"}).VOTE_RATE_LIMIT == "900/h"


def test_a_malformed_vote_limit_fails_at_start_up():
    with pytest.raises(ImproperlyConfigured, match=re.escape("VOTE_RATE_LIMIT='lots': expected amount/period")):
        settings_with({"VOTE_RATE_LIMIT": "lots"})


def test_x_forwarded_for_is_trusted_only_from_as_many_proxies_as_the_environment_says():
    assert settings_with({}).TRUSTED_PROXY_COUNT == 0
    behind = {"BEHIND_TLS_PROXY": "true", "TRUSTED_PROXY_COUNT": "1"}
    assert settings_with(behind).TRUSTED_PROXY_COUNT == 1
    assert settings_with(behind | {"TRUSTED_PROXY_COUNT": "0"}).TRUSTED_PROXY_COUNT == 0


def test_behind_a_tls_proxy_the_number_of_trusted_proxies_must_be_said_or_start_up_fails():
    with pytest.raises(ImproperlyConfigured, match="BEHIND_TLS_PROXY is set: set TRUSTED_PROXY_COUNT too"):
        settings_with({"BEHIND_TLS_PROXY": "true"})
    with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXY_COUNT='one': expected a number of proxies"):
        settings_with({"TRUSTED_PROXY_COUNT": "one"})


# Whose address the sign-in limits count ------------------------------------------------------------------------


def sign_in_from(client, forwarded_for: str, login: str, password: str):
    return client.post(
        reverse("account_login"), {"login": login, "password": password}, HTTP_X_FORWARDED_FOR=forwarded_for
    )


def test_a_forged_x_forwarded_for_from_a_direct_client_does_not_change_the_address_a_sign_in_limit_counts(client, bob):
    for n in range(20):  # a new forged address each time: all are counted against the connection's, 127.0.0.1
        assert WRONG in sign_in_from(client, f"203.0.113.{n}", f"guess{n}", "password").content.decode()

    response = sign_in_from(client, "198.51.100.1", "bob", PASSWORD)

    assert TOO_MANY_FAILURES in response.content.decode()
    assert not signed_in(client)


def test_behind_the_configured_proxy_each_client_is_counted_by_the_address_the_proxy_appended(client, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(20):  # what the client wrote comes first; the proxy appended 203.0.113.7, the client's real one
        assert WRONG in sign_in_from(client, f"10.0.0.{n}, 203.0.113.7", f"guess{n}", "password").content.decode()

    assert TOO_MANY_FAILURES in sign_in_from(client, "10.9.9.9, 203.0.113.7", "bob", PASSWORD).content.decode()
    assert not signed_in(client)
    assert sign_in_from(client, "203.0.113.8", "bob", PASSWORD).status_code == 302  # another client is not held up
    assert signed_in(client)


def test_a_request_that_skipped_the_outer_proxy_is_counted_by_the_hop_the_inner_one_appended(client, bob, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # a CDN, then our nginx; this request reached nginx directly
    for n in range(20):
        assert WRONG in sign_in_from(client, "203.0.113.7", f"guess{n}", "password").content.decode()

    response = sign_in_from(client, "203.0.113.7", "bob", PASSWORD)

    assert response.status_code == 200  # no server error for a header shorter than the proxies
    assert TOO_MANY_FAILURES in response.content.decode()
    assert sign_in_from(client, "198.51.100.1", "bob", PASSWORD).status_code == 302


def test_comments_are_limited_to_20_in_10_minutes_and_a_malformed_limit_fails_at_start_up():
    assert settings_with({}).COMMENT_RATE_LIMIT == "20/10m"
    assert settings_with({"COMMENT_RATE_LIMIT": "5/h"}).COMMENT_RATE_LIMIT == "5/h"
    with pytest.raises(ImproperlyConfigured, match=re.escape("COMMENT_RATE_LIMIT='lots': expected amount/period")):
        settings_with({"COMMENT_RATE_LIMIT": "lots"})
