from django.db import migrations


class Migration(migrations.Migration):
    """Job moved below the apps (infra.Job); its table mlcore_job stays where it is."""

    dependencies = [
        ("mlcore", "0010_merge_20261202_1100"),
        ("infra", "0001_job_moves_to_infra"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[migrations.DeleteModel(name="Job")]),
    ]
