from django.db import migrations

from infra.groups import grant_marketing_permissions


def grant(apps, schema_editor):
    grant_marketing_permissions(apps, "mlcore")


class Migration(migrations.Migration):
    dependencies = [
        ("mlcore", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
