import secrets

from django.db import migrations, models

import deliberation.models


def give_each_version_its_own_salt(apps, schema_editor) -> None:
    """The column's default is drawn once for every existing row: draw one per version instead."""
    DraftVersion = apps.get_model("deliberation", "DraftVersion")
    for version in DraftVersion.objects.only("pk").iterator():
        DraftVersion.objects.filter(pk=version.pk).update(digest_salt=secrets.token_hex(16))


class Migration(migrations.Migration):
    dependencies = [
        ("deliberation", "0002_stored_html_and_length_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="draftversion",
            name="digest_salt",
            field=models.CharField(
                default=deliberation.models.new_digest_salt,
                editable=False,
                help_text="Salts the digests the draft's edits record: private while it is a draft, published with it.",
                max_length=32,
            ),
        ),
        migrations.RunPython(give_each_version_its_own_salt, migrations.RunPython.noop),
    ]
