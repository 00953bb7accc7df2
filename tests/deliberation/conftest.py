"""Fixtures and helpers shared by the deliberation tests; the personas and domain fixtures are in tests/conftest.py.

`comment` is bob's comment on the published version 0.0.9, `draft_comment` olga's on the draft in progress.
For the tests of the services: `last_event()` is the audit row written last, `leaf(key)` and
`aggregate(key, rule)` the fields of a component to add.
"""

import pytest

from audit.models import AuditEvent
from deliberation import services


@pytest.fixture
def comment(published, bob):
    """bob's comment on the published version."""
    return services.post_comment(author=bob, version=published, body="Training *code* should be required.")


@pytest.fixture
def draft_comment(draft, olga):
    """olga's comment on the draft in progress, which only organizers see."""
    return services.post_comment(author=olga, version=draft, body="Note to self: check the wording.")


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-seq").first()


def leaf(key: str, title: str | None = None, category: str = "Code") -> dict:
    return {"key": key, "title": title or key.title(), "category": category, "aggregate_rule": ""}


def aggregate(key: str, rule: str = "sum") -> dict:
    return {"key": key, "title": key.title(), "category": "Data", "aggregate_rule": rule}
