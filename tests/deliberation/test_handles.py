"""Look-alike handles: the sign-up page, the admin's "add user" and `import_tally` refuse a handle that could pass for
someone else's (deliberation/handles.py), say why, and write nothing; ASCII handles work as before."""

import json

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from deliberation import handles
from tests.analysis import handmade
from tests.factories import PASSWORD, UserFactory

CYRILLIC_A = "\u0430"


def sign_up(client, username: str):
    return client.post(
        reverse("account_signup"),
        {"email": "newcomer@example.org", "username": username, "password1": PASSWORD, "password2": PASSWORD},
    )


def nothing_was_written(accounts_before: int, mails_before: int) -> bool:
    return (
        get_user_model().objects.count() == accounts_before
        and not EmailAddress.objects.filter(email="newcomer@example.org").exists()
        and len(mail.outbox) == mails_before
    )


@pytest.mark.parametrize(
    "handle, reason",
    [
        (f"m{CYRILLIC_A}ra", "mixes Cyrillic and Latin letters"),  # the look-alike of the finding: one Cyrillic а
        ("\u0440\u0435\u0440\u0435", "looks like “pepe”, which is taken"),  # рере: Cyrillic only, like pepe
        ("rnara", "looks like “mara”, which is taken"),  # r n side by side look like m
        ("MARA", "A user with that username already exists."),
        ("\uff4d\uff41\uff52\uff41", "A user with that username already exists."),  # full-width ｍａｒａ is mara
        ("ma\u200bra", "U+200B (ZERO WIDTH SPACE)"),
        ("mara\u202e", "U+202E (RIGHT-TO-LEFT OVERRIDE)"),
    ],
    ids=["cyrillic-a", "whole-script-cyrillic", "rn-for-m", "capitals", "full-width", "zero-width", "bidi"],
)
def test_signing_up_with_a_handle_that_looks_like_a_taken_one_is_refused_with_the_reason_and_writes_nothing(
    client, db, handle, reason
):
    UserFactory(username="mara")
    UserFactory(username="pepe")
    accounts, mails = get_user_model().objects.count(), len(mail.outbox)

    response = sign_up(client, handle)

    assert response.status_code == 200  # the form again, with the reason by the handle
    assert reason in response.content.decode()
    assert nothing_was_written(accounts, mails)


def test_a_full_width_handle_is_stored_in_its_normal_form(client, db):
    assert sign_up(client, "\uff4a\uff4f").status_code == 302  # ｊｏ

    assert get_user_model().objects.filter(username="jo").exists()


@pytest.mark.parametrize("handle", ["mara2", "mara.b", "ma-ra", "m_ara", "mar@", "ivan", "иван", "山田たろう", "Zoë"])
def test_handles_that_look_like_no_one_else_sign_up_as_before(client, db, handle):
    UserFactory(username="mara")

    assert sign_up(client, handle).status_code == 302
    assert get_user_model().objects.filter(username=handle).exists()


def test_the_admin_refuses_to_add_an_account_whose_handle_looks_like_a_taken_one(client, db):
    UserFactory(username="mara")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(root)
    accounts = get_user_model().objects.count()

    response = client.post(
        reverse("admin:auth_user_add"),
        {"username": "rnara", "password1": PASSWORD, "password2": PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 200
    assert "looks like “mara”, which is taken" in response.content.decode()
    assert get_user_model().objects.count() == accounts


def test_every_look_alike_of_the_rule_has_one_skeleton():
    assert len({handles.skeleton(h) for h in ["mara", f"m{CYRILLIC_A}ra", "rnara", "MARA", "ｍａｒａ"]}) == 1
    assert handles.skeleton("0mar") == handles.skeleton("Omar")
    assert handles.skeleton("bob") != handles.skeleton("bób")  # an accent is seen: not a look-alike


# import_tally --------------------------------------------------------------------------------------------------


def bundle_where_cy_is(tmp_path, handle: str):
    """The hand-made ballot with member `cy` (of group beta, who votes twice) named `handle` instead."""
    ballot = json.loads(json.dumps(handmade.BALLOT).replace('"cy"', json.dumps(handle)))
    votes = [(handle if v[0] == "cy" else v[0], *v[1:]) for v in handmade.VOTES]
    return handmade.write_votes(tmp_path, ballot, handmade.vote_rows(votes, ballot))


@pytest.mark.parametrize(
    "handle, reason",
    [
        (f"m{CYRILLIC_A}ra", "ballot.json: The handle “mаra” mixes Cyrillic and Latin letters"),
        ("rnara", "ballot.json: The handle “rnara” looks like “mara”, which is taken"),
        ("\uff4d\uff41\uff52\uff41", "The handle “ｍａｒａ” is not in its normal form; write it as “mara”"),
        ("cy\u200d", "'cy\\u200d' is not a handle"),  # refused already by the bundle's reader
    ],
    ids=["cyrillic-a", "rn-for-m", "full-width", "zero-width-joiner"],
)
def test_import_refuses_to_create_an_account_whose_handle_looks_like_a_taken_one_and_writes_nothing(
    db, tmp_path, handle, reason
):
    UserFactory(username="mara")
    path = bundle_where_cy_is(tmp_path, handle)
    accounts = get_user_model().objects.count()

    with pytest.raises(CommandError) as refused:
        call_command("import_tally", str(path))

    assert str(refused.value).startswith("Nothing was imported. ")
    assert reason in str(refused.value)
    assert get_user_model().objects.count() == accounts


def test_import_refuses_two_new_handles_that_look_alike(db, tmp_path):
    path = bundle_where_cy_is(tmp_path, "b0")  # beside bo, in group alpha

    with pytest.raises(CommandError, match="The handle “bo” looks like “b0”"):
        call_command("import_tally", str(path))

    assert not get_user_model().objects.exists()
