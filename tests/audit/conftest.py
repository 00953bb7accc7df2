"""The audit tests check ballots built with the votes tests' fixtures."""

from tests.votes.conftest import ballot, cast, choice, grant, scheduled, voted  # noqa: F401
