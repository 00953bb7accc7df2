"""`import_tally` takes a ballot by the web app's rules, on every engine, and uses no existing account unasked."""

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from votes.models import RATIONALE_MAX_LENGTH, Ballot

from . import handmade


def import_tally(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_tally", str(path), *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def ballot_with(edit) -> dict:
    ballot = json.loads(json.dumps(handmade.BALLOT))
    edit(ballot)
    return ballot


def refused(path: Path, *args: str) -> str:
    before = row_counts()
    with pytest.raises(CommandError) as refusal:
        import_tally(path, *args)
    assert row_counts() == before
    message = str(refusal.value)
    assert message.startswith("Nothing was imported. ")
    return message


def test_a_choice_value_the_database_cannot_store_is_refused_on_every_engine(db, tmp_path):
    ballot = ballot_with(lambda b: b["choices"][0].update(value=2**40))
    rows = [r | {"value": 2**40} if r["choice"] == "required" else r for r in handmade.vote_rows(ballot=ballot)]

    message = refused(handmade.write_votes(tmp_path, ballot, rows))

    assert message.endswith(
        "ballot.json: ballot: The choice required counts for 1099511627776, but a choice's value is a whole number"
        " from -2147483648 to 2147483647."
    )


def test_a_number_of_clusters_the_web_app_does_not_offer_is_refused(db, tmp_path):
    path = handmade.write_votes(tmp_path, ballot_with(lambda b: b["clustering"].update(k=10**9)))

    assert "ballot.json: clustering.k: Clustering needs a whole number of clusters k from 2 to 6" in refused(path)


def test_a_rationale_longer_than_a_member_may_write_is_refused_at_its_line(db, tmp_path):
    rows = handmade.vote_rows()
    rows[3] = rows[3] | {"rationale": "x" * 100_000}

    message = refused(handmade.write_votes(tmp_path, rows=rows))

    assert f"votes.csv, line 5: A rationale can be at most {RATIONALE_MAX_LENGTH} characters long" in message


@pytest.mark.parametrize("name", ["votes.csv", "ballot.json"])
def test_a_symlinked_file_in_a_directory_bundle_is_refused_unread(db, tmp_path, name):
    path = handmade.write_votes(tmp_path / "bundle")
    secret = tmp_path / "secret.txt"
    secret.write_text("root:SECRET-FIRST-LINE\n")
    (path / name).unlink()
    os.symlink(secret, path / name)

    message = refused(path)

    assert f"{name}: is a symbolic link" in message
    assert "SECRET" not in message


def test_existing_accounts_are_refused_unless_asked_for_by_name(db, tmp_path):
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    UserFactory(username="bo")
    ballot = ballot_with(lambda b: b["working_groups"][0]["members"].append("admin"))
    path = handmade.write_votes(tmp_path, ballot)

    message = refused(path)

    assert "working_groups: 'admin' and 'bo' already have accounts here" in message
    assert "--use-existing-accounts" in message
    assert not admin.memberships.exists()


def test_with_the_option_existing_accounts_are_used_and_said(db, tmp_path):
    UserFactory(username="bo")

    out = import_tally(handmade.write_votes(tmp_path), "--use-existing-accounts")

    assert out.splitlines()[0] == "Imported example/components: 9 votes, 4 accounts created, 1 existing account used."
    assert Ballot.objects.get().votes.filter(voter__username="bo").count() == 2


def test_an_existing_organizer_imports_without_the_option(db, tmp_path):
    UserFactory(username="olga")

    import_tally(handmade.write_votes(tmp_path), "--organizer", "olga")

    assert list(Ballot.objects.get().definition.organizers.values_list("username", flat=True)) == ["olga"]
