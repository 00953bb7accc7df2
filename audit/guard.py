"""The database itself refuses UPDATE and DELETE on audit events: a trigger on each engine."""

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"

_INSTALL = {
    "postgresql": [
        """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP; END $$""",
        f"""CREATE OR REPLACE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
            FOR EACH ROW EXECUTE FUNCTION audit_refuse_change()""",
    ],
    "sqlite": [
        f"""CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only: UPDATE refused'); END""",
        f"""CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON {TABLE}
            BEGIN SELECT RAISE(ABORT, 'audit events are append-only: DELETE refused'); END""",
    ],
}
_UNINSTALL = {
    "postgresql": [f"DROP TRIGGER IF EXISTS audit_append_only ON {TABLE}"],
    "sqlite": ["DROP TRIGGER IF EXISTS audit_no_update", "DROP TRIGGER IF EXISTS audit_no_delete"],
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, list[str]]) -> None:
    if connection.vendor not in statements:
        raise NotImplementedError(f"No append-only guard for {connection.vendor}")
    with connection.cursor() as cursor:
        for sql in statements[connection.vendor]:
            cursor.execute(sql)


def install(connection: BaseDatabaseWrapper) -> None:
    _run(connection, _INSTALL)


def uninstall(connection: BaseDatabaseWrapper) -> None:
    """Only for a test that tampers on purpose, or SQLite's flush between transactional tests."""
    _run(connection, _UNINSTALL)
