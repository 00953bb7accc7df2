"""A database held by a long write answers 503 with the reason on every page that writes, never a 500.

On SQLite (the embedded default) one write holds the whole database: these tests copy the test
database into a file, hold its write lock from a second, real connection (as a large
`import_tally` does), and post a comment, sign in and grant a veto meanwhile.
"""

import sqlite3
from contextlib import contextmanager

import pytest
from django.db import connections
from django.urls import reverse

from config.middleware import NOT_SAVED, RETRY_AFTER
from deliberation.models import Comment
from tests.factories import PASSWORD
from tests.votes.conftest import ballot, scheduled  # noqa: F401 (fixtures)
from votes.models import VetoGrant

BUSY = "The server is busy"


@pytest.fixture(autouse=True)
def file_database(db, tmp_path):
    """The test database copied into a file before any other fixture writes, with a busy timeout of 0.2 s."""
    memory = connections["default"]
    if memory.vendor != "sqlite":
        pytest.skip("SQLite holds the whole database for one write; PostgreSQL locks rows")
    path = tmp_path / "plenary.sqlite3"
    memory.ensure_connection()
    target = sqlite3.connect(path)
    target.executescript("\n".join(memory.connection.iterdump()))  # read through the test's own transaction
    target.close()
    settings = {**memory.settings_dict, "NAME": str(path)}
    settings["OPTIONS"] = {**settings["OPTIONS"], "timeout": 0.2}
    on_file = memory.__class__(settings, alias="default")
    connections["default"] = on_file
    yield path
    on_file.close()
    connections["default"] = memory


@contextmanager
def held(path):
    """The database's write lock, held by another connection (as a long import holds it) until the block ends."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def assert_busy(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER)
    page = response.content.decode()
    assert BUSY in page and NOT_SAVED in page


def test_a_comment_posted_while_the_database_is_held_is_503_with_the_reason_and_saves_nothing(
    file_database, bob, published, client
):
    client.force_login(bob)
    path = reverse("deliberation:comment-create", args=["osd", "0.0.9"])

    with held(file_database):
        response = client.post(path, {"body": "While the import runs."})

    assert_busy(response)
    assert not Comment.objects.exists()
    assert client.post(path, {"body": "Once it is done."}).status_code == 302  # and then it saves
    assert Comment.objects.get().body == "Once it is done."


def test_signing_in_while_the_database_is_held_is_503_not_500(file_database, bob, client):
    with held(file_database):
        response = client.post(reverse("account_login"), {"login": "bob", "password": PASSWORD})

    assert_busy(response)
    assert "_auth_user_id" not in client.session


def test_a_grant_made_while_the_database_is_held_is_503_and_grants_nothing(olga, ballot, client, file_database):  # noqa: F811
    client.force_login(olga)
    choice = ballot.choices.get(key="not-necessary")

    with held(file_database):
        response = client.post(
            reverse("votes:grants", args=["osd", ballot.key]),
            {"choice": choice.pk, "member": "dave", "reason": "Expert."},
        )

    assert_busy(response)
    assert not VetoGrant.objects.exists()
