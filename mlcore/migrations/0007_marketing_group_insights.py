from django.db import migrations

from infra.groups import grant_marketing_permissions


def grant(apps, schema_editor):
    # view/change on the models added since the first grant
    grant_marketing_permissions(apps, "mlcore")


class Migration(migrations.Migration):
    dependencies = [("mlcore", "0006_merge_feedback")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
