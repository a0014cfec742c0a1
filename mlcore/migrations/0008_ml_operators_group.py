from django.db import migrations

from infra.groups import ML_OPERATORS_GROUP_NAME, grant_marketing_permissions


def create(apps, schema_editor):
    # view/change on mlcore's models; the admin lets this group force-activate and roll back
    grant_marketing_permissions(apps, "mlcore", group_name=ML_OPERATORS_GROUP_NAME)


def remove(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=ML_OPERATORS_GROUP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("mlcore", "0007_marketing_group_insights"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create, remove)]
