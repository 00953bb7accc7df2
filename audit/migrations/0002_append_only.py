from django.db import migrations


def install(apps, schema_editor):
    from audit import guard

    guard.install(schema_editor.connection, parts=["rows"])


def uninstall(apps, schema_editor):
    from audit import guard

    guard.uninstall(schema_editor.connection, parts=["rows"])


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]

    operations = [migrations.RunPython(install, uninstall)]
