"""Failures halfway through a change, raised by the database itself, and the tables to compare around them."""

from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import cache

from django.apps import apps
from django.db import connection
from django.db.models import Model

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


def rows_of(models: Iterable[type[Model]]) -> dict[str, list[dict]]:
    """Every row of each model's table in primary-key order, as `values()` names its columns, and the values as the
    database driver returns them (no field converts them: two reads of an unchanged table are equal, whatever it
    holds). The SQL of each model is compiled once, so that a test can compare every table cheaply."""
    result = {}
    with connection.cursor() as cursor:
        for model in models:
            label, sql, names = _select_all(model, connection.alias)
            cursor.execute(sql)
            result[label] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return result


@cache
def _select_all(model: type[Model], alias: str) -> tuple[str, str, tuple[str, ...]]:
    query = model.objects.using(alias).order_by("pk").values().query
    sql, params = query.sql_with_params()
    assert not params and not query.extra_select and not query.annotation_select, model
    return model._meta.label, sql, tuple(query.values_select)


def every_row() -> dict[str, list[dict]]:
    """Every row of every model's table, many-to-many tables included, in primary-key order."""
    return rows_of(apps.get_models(include_auto_created=True))


def audit_chain_holds() -> bool:
    broken, _ = chain.verify(AuditEvent.objects.in_chain_order().canonical())
    return broken is None
