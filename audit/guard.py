"""The database itself refuses UPDATE, DELETE and TRUNCATE on audit events: triggers on each engine.

Row triggers refuse UPDATE and DELETE. PostgreSQL's TRUNCATE (which `manage.py flush` runs)
fires no row trigger, so a statement trigger refuses it too; SQLite has no TRUNCATE, and its
DELETE without a WHERE still fires the row trigger.
"""

from collections.abc import Iterable

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
PARTS = ("rows", "truncate")

_REFUSE = """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP; END $$"""

_INSTALL = {
    "rows": {
        "postgresql": [
            _REFUSE,
            f"""CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
        ],
        "sqlite": [
            f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
            f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE}
                BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
        ],
    },
    "truncate": {
        "postgresql": [
            _REFUSE,
            f"""CREATE OR REPLACE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()""",
        ],
        "sqlite": [],  # no TRUNCATE statement: DELETE FROM the table meets the row trigger
    },
}
_UNINSTALL = {
    "rows": {
        "postgresql": [f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}"],
        "sqlite": ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"],
    },
    "truncate": {
        "postgresql": [f"DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE}"],
        "sqlite": [],
    },
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, dict[str, list[str]]], parts: Iterable[str]) -> None:
    for part in parts:
        if connection.vendor not in statements[part]:
            raise NotImplementedError(f"No append-only guard for {connection.vendor}")
        with connection.cursor() as cursor:
            for sql in statements[part][connection.vendor]:
                cursor.execute(sql)


def install(connection: BaseDatabaseWrapper, *, parts: Iterable[str] = PARTS) -> None:
    _run(connection, _INSTALL, parts)


def uninstall(connection: BaseDatabaseWrapper, *, parts: Iterable[str] = PARTS) -> None:
    """Only for a test that tampers on purpose, or the flush that ends a transactional test."""
    _run(connection, _UNINSTALL, parts)
