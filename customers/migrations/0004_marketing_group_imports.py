from django.db import migrations

from infra.groups import grant_marketing_permissions


def grant(apps, schema_editor):
    # view/change on the models added since the first grant
    grant_marketing_permissions(apps, "customers")


class Migration(migrations.Migration):
    dependencies = [("customers", "0003_import_batch")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
