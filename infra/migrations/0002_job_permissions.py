from django.db import migrations

from infra.groups import ML_OPERATORS_GROUP_NAME, grant_marketing_permissions


def move_content_type(apps, schema_editor):
    """The job's content type follows it to infra, so existing permissions and group grants stay valid."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    old = ContentType.objects.filter(app_label="mlcore", model="job").first()
    if old is not None and not ContentType.objects.filter(app_label="infra", model="job").exists():
        old.app_label = "infra"
        old.save(update_fields=["app_label"])
    grant_marketing_permissions(apps, "infra")
    grant_marketing_permissions(apps, "infra", group_name=ML_OPERATORS_GROUP_NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("infra", "0001_job_moves_to_infra"),
        ("mlcore", "0011_job_moves_to_infra"),
        ("mlcore", "0008_ml_operators_group"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(move_content_type, migrations.RunPython.noop)]
