"""The test database on SQLite in memory, migrated once and copied into each run and each xdist worker.

Migrating takes seconds per process, and every process of every run migrated the same empty database.
The first process to need it migrates as before (the real migrations, which install the audit guards),
then saves the result as a file; every process after it copies that file into its in-memory database
with SQLite's backup API. The file is named by a digest of what the migrated database depends on (every
app's migration files, the project's own source and Django's version), so any change there migrates afresh.
PostgreSQL, and a file-based SQLite database, are set up exactly as pytest-django does.
"""

import fcntl
import hashlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "var" / "test-databases"
PROJECT = ["config", "audit", "deliberation", "votes", "analysis", "notifications", "home", "search"]


def copied_in_memory() -> bool:
    """Whether the one test database is SQLite in memory, the case a migrated copy serves."""
    if list(settings.DATABASES) != ["default"]:
        return False
    connection = connections["default"]
    return connection.vendor == "sqlite" and connection.creation.is_in_memory_db(
        connection.creation._get_test_db_name()
    )


def _digest() -> str:
    """What the migrated database depends on: every migration file, the project's source, Django's version."""
    files = {
        Path(sys.modules[type(migration).__module__].__file__ or "")
        for migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.values()
    }
    files |= {path for package in PROJECT for path in (ROOT / package).rglob("*.py")}
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted(files):
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process migrates; the others wait for its copy
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def create(verbosity: int, serialize: bool) -> str:
    """Set up the in-memory test database from the migrated copy (making the copy if there is none);
    return the database's former name, for `destroy`."""
    connection = connections["default"]
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    template = TEMPLATES / f"migrated-{_digest()}.sqlite3"
    with _locked(template):
        if not template.exists():
            creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
            partial = template.with_suffix(f".{os.getpid()}.partial")
            with sqlite3.connect(partial) as saved:
                connection.connection.backup(saved)
            saved.close()
            os.replace(partial, template)
            for stale in TEMPLATES.glob("migrated-*.sqlite3"):  # copies of code since changed
                if stale != template:
                    stale.unlink(missing_ok=True)
        else:
            # create_test_db without the migrations: point the connection at the test database, then fill it
            connection.close()
            settings.DATABASES["default"]["NAME"] = creation._get_test_db_name()
            connection.settings_dict["NAME"] = creation._get_test_db_name()
            connection.ensure_connection()
            with sqlite3.connect(f"file:{template}?mode=ro", uri=True) as source:
                source.backup(connection.connection)
            source.close()
            call_command("createcachetable", database="default")
    if serialize:
        connection._test_serialized_contents = creation.serialize_db_to_string()  # type: ignore[attr-defined]
    return old_name


def destroy(old_name: str, verbosity: int) -> None:
    connections["default"].creation.destroy_test_db(old_name, verbosity=verbosity, keepdb=False)
