"""Fixtures for the deliberation tests; the personas and domain fixtures are in tests/conftest.py."""

from contextlib import contextmanager

import pytest

from audit.models import AuditEvent
from deliberation.models import (
    Comment,
    CommentRevision,
    Component,
    Definition,
    DraftVersion,
    Membership,
    WorkingGroup,
)

TABLES = [
    AuditEvent,
    Definition,
    Definition.organizers.through,
    DraftVersion,
    Component,
    Component.parts.through,
    WorkingGroup,
    Membership,
    Comment,
    CommentRevision,
]


def _rows() -> dict[str, list[dict]]:
    return {model._meta.label: list(model.objects.order_by("pk").values()) for model in TABLES}


@pytest.fixture
def nothing_written(db):
    """`with nothing_written():` fails unless every deliberation and audit row is the same afterwards."""

    @contextmanager
    def check():
        before = _rows()
        yield
        assert _rows() == before

    return check
