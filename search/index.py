"""What search reads, per kind of thing found, and how each database keeps its index current by itself.

Five kinds are searched: definitions (title, summary), versions (their text), components (title,
description), comments (their text) and suggestions (the replacement and its reason).

PostgreSQL: a GIN expression index per table over the very `SearchVector` the queries filter on
(`VECTORS`), so the planner uses it and PostgreSQL keeps it current on every write. An expression
index rather than a stored generated tsvector column: it adds no column to deliberation's tables
(whose models would then carry a field SQLite cannot have), and ranking needs the vector of the few
rows matched only. The cost, computing the vector again to rank, is small beside ts_headline's.

SQLite: one FTS5 table, `search_index`, of every kind (`TABLES`), so that bm25() ranks all of them
against one set of statistics; a row's rowid says its kind and its id (`rowid`). Triggers on the
five tables, created here, keep it current on every INSERT, UPDATE and DELETE, whoever writes:
the services, the admin, an import or a migration. The services write no search code, and no
save() override or signal is needed. The table keeps its own copy of the text (an external-content
table reads one table only, and a contentless one cannot make snippets).

SQLite drops a table's triggers when a migration rebuilds the table (Django's way of altering a
column there): `install` is idempotent and `rebuild` fills the index afresh, so such a migration is
followed by one that runs both, as audit/guard.py's triggers are (tests/search/test_index.py fails
until it is).
"""

from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Expression

CONFIG = "english"  # PostgreSQL's text search configuration: English stemming and stop words
KINDS = ("definition", "version", "component", "comment", "suggestion")
MODELS = {
    "definition": ("deliberation", "Definition"),
    "version": ("deliberation", "DraftVersion"),
    "component": ("deliberation", "Component"),
    "comment": ("deliberation", "Comment"),
    "suggestion": ("deliberation", "Suggestion"),
}


def _vector(*weighted: tuple[str, str]) -> Expression:
    """The columns' vectors, each with its weight, joined (`||`)."""
    vectors = [SearchVector(column, weight=weight, config=CONFIG) for column, weight in weighted]
    combined: Expression = vectors[0]
    for vector in vectors[1:]:
        combined = combined + vector
    return combined


# Weights: A for a title, C for what describes it, D for running text. A title match ranks above a mention in passing.
VECTORS = {
    "definition": _vector(("title", "A"), ("summary", "C")),
    "version": _vector(("body", "D")),
    "component": _vector(("title", "A"), ("description", "C")),
    "comment": _vector(("body", "D")),
    "suggestion": _vector(("replacement", "D"), ("reason", "D")),
}
# The text a snippet is cut from, on PostgreSQL (`title` is highlighted whole where a kind has one).
TITLE_COLUMNS = {"definition": "title", "component": "title"}
TEXT_COLUMNS = {
    "definition": ("summary",),
    "version": ("body",),
    "component": ("description",),
    "comment": ("body",),
    "suggestion": ("replacement", "reason"),
}


def _index(kind: str) -> GinIndex:
    return GinIndex(VECTORS[kind], name=f"search_{kind}_fts")


# SQLite ------------------------------------------------------------------------------------------------------------

KIND_BITS = 48  # a rowid is (kind's number << 48) + the row's id
ID_MASK = (1 << KIND_BITS) - 1
# kind: (table, its title, its text), as SQL over the row `{row}` (NEW or OLD in a trigger)
TABLES = {
    "definition": ("deliberation_definition", "{row}.title", "{row}.summary"),
    "version": ("deliberation_draftversion", "''", "{row}.body"),
    "component": ("deliberation_component", "{row}.title", "{row}.description"),
    "comment": ("deliberation_comment", "''", "{row}.body"),
    "suggestion": ("deliberation_suggestion", "''", "{row}.replacement || char(10) || {row}.reason"),
}
TITLE_WEIGHT, TEXT_WEIGHT = 10.0, 1.0  # bm25()'s weights of the two columns


def kind_number(kind: str) -> int:
    return KINDS.index(kind) + 1


def rowid(kind: str, pk: int) -> int:
    return (kind_number(kind) << KIND_BITS) + pk


def unpack(rowid: int) -> tuple[str, int]:
    return KINDS[(rowid >> KIND_BITS) - 1], rowid & ID_MASK


def _columns(kind: str) -> list[str]:
    """The columns whose change changes what is found."""
    _, title, text = TABLES[kind]
    return sorted({part.split(".")[1] for part in (title + " " + text).split() if part.startswith("{row}.")})


def _sqlite_triggers(kind: str) -> list[str]:
    table, title, text = TABLES[kind]
    key = f"({kind_number(kind)} << {KIND_BITS})"
    new_title, new_text = title.format(row="NEW"), text.format(row="NEW")
    return [
        f"""CREATE TRIGGER IF NOT EXISTS search_{kind}_inserted AFTER INSERT ON {table} BEGIN
            INSERT INTO search_index (rowid, title, body) VALUES ({key} + NEW.id, {new_title}, {new_text}); END""",
        f"""CREATE TRIGGER IF NOT EXISTS search_{kind}_updated AFTER UPDATE OF {", ".join(_columns(kind))} ON {table}
            BEGIN UPDATE search_index SET title = {new_title}, body = {new_text} WHERE rowid = {key} + NEW.id; END""",
        f"""CREATE TRIGGER IF NOT EXISTS search_{kind}_deleted AFTER DELETE ON {table} BEGIN
            DELETE FROM search_index WHERE rowid = {key} + OLD.id; END""",
    ]


def sqlite_triggers() -> list[str]:
    """The names of the triggers that keep the SQLite index current."""
    return [f"search_{kind}_{event}" for kind in KINDS for event in ("inserted", "updated", "deleted")]


def install(schema_editor: BaseDatabaseSchemaEditor, apps) -> None:
    """Create the index, its triggers on SQLite (idempotent); `apps` gives the models, as in a migration."""
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for kind in KINDS:
            model = apps.get_model(*MODELS[kind])
            if _index(kind).name not in _existing_indexes(connection, model._meta.db_table):
                schema_editor.add_index(model, _index(kind))
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE VIRTUAL TABLE IF NOT EXISTS search_index USING fts5"
                "(title, body, tokenize = 'porter unicode61 remove_diacritics 2')"
            )
            for kind in KINDS:
                for statement in _sqlite_triggers(kind):
                    cursor.execute(statement)


def rebuild(connection: BaseDatabaseWrapper) -> None:
    """Fill the SQLite index afresh from the tables (PostgreSQL's indexes need no filling)."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_index")
        for kind in KINDS:
            table, title, text = TABLES[kind]
            cursor.execute(
                f"INSERT INTO search_index (rowid, title, body) SELECT ({kind_number(kind)} << {KIND_BITS}) + id, "
                f"{title.format(row=table)}, {text.format(row=table)} FROM {table}"
            )


def uninstall(schema_editor: BaseDatabaseSchemaEditor, apps) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for kind in KINDS:
            model = apps.get_model(*MODELS[kind])
            if _index(kind).name in _existing_indexes(connection, model._meta.db_table):
                schema_editor.remove_index(model, _index(kind))
    elif connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for name in sqlite_triggers():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute("DROP TABLE IF EXISTS search_index")


def _existing_indexes(connection: BaseDatabaseWrapper, table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))
