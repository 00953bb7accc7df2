"""The database itself refuses UPDATE, DELETE and TRUNCATE on audit events: triggers on each engine.

Row triggers refuse UPDATE and DELETE. PostgreSQL's TRUNCATE (which `manage.py flush` runs)
fires no row trigger, so a statement trigger refuses it too; SQLite has no TRUNCATE, and its
DELETE without a WHERE still fires the row trigger.

The names that audit streams and the events in them are keyed by never change either ("keys"): a
definition's slug, a ballot's key and definition (`ballot:<slug>/<key>`), and an account's handle
(each event's actor, each vote's voter). A rename would start each ballot's chain afresh, unseal
its next vote and freeze its outcomes, or swap whose votes are whose.

The log's signed checkpoints and the witnesses' cosignatures of them (`audit/logmodels.py`) are
evidence of the same kind: once signed or received, a row never changes ("checkpoints", the same
row and TRUNCATE triggers on their two tables).
"""

from collections.abc import Iterable

from django.db.backends.base.base import BaseDatabaseWrapper

TABLE = "audit_auditevent"
PARTS = ("rows", "truncate", "keys", "checkpoints")
CHECKPOINT_TABLES = ("audit_checkpoint", "audit_cosignature")
# table, trigger, the columns that never change, what the refusal says
FIXED = [
    ("deliberation_definition", "definition_slug_fixed", ["slug"], "a definition's slug names its audit streams"),
    ("votes_ballot", "ballot_key_fixed", ["key", "definition_id"], "a ballot's key and definition name its stream"),
    ("auth_user", "handle_fixed", ["username"], "a handle names the actor of every event and the voter of every vote"),
]


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def _changed(columns: list[str], joiner: str) -> str:
    return " OR ".join(f"OLD.{c} IS {joiner} NEW.{c}" for c in columns)


_REFUSE_RENAME = """CREATE OR REPLACE FUNCTION plenary_refuse_rename() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION '% and never changes: UPDATE refused', TG_ARGV[0]; END $$"""

_REFUSE = """CREATE OR REPLACE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP; END $$"""

_REFUSE_CHECKPOINT = """CREATE OR REPLACE FUNCTION audit_refuse_checkpoint_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'checkpoints and cosignatures are append-only: % refused', TG_OP; END $$"""

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
    "keys": {
        "postgresql": [_REFUSE_RENAME]
        + [
            f"""CREATE OR REPLACE TRIGGER {name} BEFORE UPDATE OF {", ".join(columns)} ON {table} FOR EACH ROW
                WHEN ({_changed(columns, "DISTINCT FROM")}) EXECUTE FUNCTION plenary_refuse_rename('{_quoted(why)}')"""
            for table, name, columns, why in FIXED
        ],
        "sqlite": [
            f"""CREATE TRIGGER IF NOT EXISTS {name} BEFORE UPDATE OF {", ".join(columns)} ON {table}
                WHEN {_changed(columns, "NOT")}
                BEGIN SELECT RAISE(ABORT, '{_quoted(why)} and never changes: UPDATE refused'); END"""
            for table, name, columns, why in FIXED
        ],
    },
    "checkpoints": {
        "postgresql": [_REFUSE_CHECKPOINT]
        + [
            f"""CREATE OR REPLACE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table}
                FOR EACH ROW EXECUTE FUNCTION audit_refuse_checkpoint_change()"""
            for table in CHECKPOINT_TABLES
        ]
        + [
            f"""CREATE OR REPLACE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table}
                FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_checkpoint_change()"""
            for table in CHECKPOINT_TABLES
        ],
        "sqlite": [
            f"""CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table}
                BEGIN SELECT RAISE(ABORT, 'checkpoints and cosignatures are append-only: {op} refused'); END"""
            for table in CHECKPOINT_TABLES
            for op in ("UPDATE", "DELETE")
        ],
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
    "keys": {
        "postgresql": [f"DROP TRIGGER IF EXISTS {name} ON {table}" for table, name, _, _ in FIXED],
        "sqlite": [f"DROP TRIGGER IF EXISTS {name}" for _, name, _, _ in FIXED],
    },
    "checkpoints": {
        "postgresql": [
            f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}"
            for table in CHECKPOINT_TABLES
            for name in ("append_only", "no_truncate")
        ],
        "sqlite": [
            f"DROP TRIGGER IF EXISTS {table}_no_{op}" for table in CHECKPOINT_TABLES for op in ("update", "delete")
        ],
    },
}


def _run(connection: BaseDatabaseWrapper, statements: dict[str, dict[str, list[str]]], parts: Iterable[str]) -> None:
    for part in parts:
        if connection.vendor not in statements[part]:
            raise NotImplementedError(f"No guard for {connection.vendor}")
        with connection.cursor() as cursor:
            for sql in statements[part][connection.vendor]:
                cursor.execute(sql)


def install(connection: BaseDatabaseWrapper, *, parts: Iterable[str] = PARTS) -> None:
    _run(connection, _INSTALL, parts)


def uninstall(connection: BaseDatabaseWrapper, *, parts: Iterable[str] = PARTS) -> None:
    """Only for a test that tampers on purpose, or the flush that ends a transactional test."""
    _run(connection, _UNINSTALL, parts)
