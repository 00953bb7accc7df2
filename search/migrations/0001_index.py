from django.db import migrations


def install(apps, schema_editor):
    from search import index

    index.install(schema_editor, apps)
    index.rebuild(schema_editor.connection)


def uninstall(apps, schema_editor):
    from search import index

    index.uninstall(schema_editor, apps)


class Migration(migrations.Migration):
    """The search index: GIN expression indexes on PostgreSQL, an FTS5 table kept by triggers on SQLite."""

    dependencies = [("deliberation", "0007_passages_and_suggestions")]

    operations = [migrations.RunPython(install, uninstall)]
