from django.db import migrations


def install(apps, schema_editor):
    from audit import guard

    guard.install(schema_editor.connection, parts=["truncate"])


def uninstall(apps, schema_editor):
    from audit import guard

    guard.uninstall(schema_editor.connection, parts=["truncate"])


class Migration(migrations.Migration):
    """TRUNCATE fires no row trigger: refuse it with a statement trigger (PostgreSQL; SQLite has none)."""

    dependencies = [("audit", "0003_stream_seal")]

    operations = [migrations.RunPython(install, uninstall)]
