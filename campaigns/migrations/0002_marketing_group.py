from django.db import migrations

from infra.groups import grant_marketing_permissions


def grant(apps, schema_editor):
    # Marketing staff build campaigns: they may add as well as view and change them.
    grant_marketing_permissions(apps, "campaigns", actions=("view", "change", "add"))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0001_campaigns"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
