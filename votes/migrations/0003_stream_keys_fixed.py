from django.db import migrations


def install(apps, schema_editor):
    from audit import guard

    guard.install(schema_editor.connection, parts=["keys"])


def uninstall(apps, schema_editor):
    from audit import guard

    guard.uninstall(schema_editor.connection, parts=["keys"])


class Migration(migrations.Migration):
    """A definition's slug, a ballot's key and definition, and a handle never change (audit/guard.py)."""

    dependencies = [
        ("audit", "0004_no_truncate"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("deliberation", "0003_draft_digest_salt"),
        ("votes", "0002_rationale_length"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
