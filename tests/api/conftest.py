"""The API tests build ballots with the votes tests' fixtures."""

from tests.votes.conftest import ballot, cast, scheduled  # noqa: F401
