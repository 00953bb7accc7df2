"""Failures halfway through a change, raised by the database itself, and the tables to compare around them."""

from collections.abc import Callable
from contextlib import contextmanager

from django.apps import apps
from django.db import connection

from audit.models import AuditEvent
from plenary_tally import chain


@contextmanager
def the_database_fails(statement: str, *, nth: int = 1, when: Callable[[list], bool] = lambda params: True):
    """The `nth` SQL statement that starts with `statement` (and whose parameters pass `when`) fails in the database.

    The statement is swapped for one the database refuses, so the error comes from the database driver as a lost
    disk or a killed connection's would, and on PostgreSQL the transaction is aborted as it would be. Yields the
    list of errors raised, so a test can tell the failure happened.
    """
    seen, raised = 0, []

    def execute(run, sql, params, many, context):
        nonlocal seen
        if sql.startswith(statement) and when(list(params or ())):
            seen += 1
            if seen == nth:
                try:
                    return run("INSERT INTO plenary_injected_failure DEFAULT VALUES", None, False, context)
                except Exception as error:
                    raised.append(error)
                    raise
        return run(sql, params, many, context)

    with connection.execute_wrapper(execute):
        yield raised


def every_table() -> dict[str, int]:
    """How many rows each model's table holds, many-to-many tables included."""
    return {model._meta.label: model.objects.count() for model in apps.get_models(include_auto_created=True)}


def every_row() -> dict[str, list[dict]]:
    """Every row of every model's table, many-to-many tables included, in primary-key order."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values())
        for model in apps.get_models(include_auto_created=True)
    }


def audit_chain_holds() -> bool:
    broken, _ = chain.verify(AuditEvent.objects.in_chain_order().canonical())
    return broken is None
