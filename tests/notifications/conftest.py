from tests.votes.conftest import ballot, cast, scheduled  # noqa: F401 (fixtures)
