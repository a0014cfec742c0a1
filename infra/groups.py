"""The "Marketing" staff group: view and change permission on an app's models; the same grant
makes the "ML operators" group (mlcore's models), who alone may overrule the model gates.

Used by each app's data migration, so a new app grants its own models when it lands.
Superusers keep everything else (adding and deleting records, the registry, users).
"""
from __future__ import annotations

GROUP_NAME = "Marketing"
ACTIONS = ("view", "change")
# May force-activate a model that fails the registry's gate and roll back (mlcore's admin checks it).
ML_OPERATORS_GROUP_NAME = "ML operators"


def grant_marketing_permissions(apps, app_label: str, *, actions: tuple[str, ...] = ACTIONS, group_name: str = GROUP_NAME) -> None:
    from django.contrib.auth.management import create_permissions

    # Permissions are normally created after migrate; create this app's now so we can grant them.
    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=group_name)
    codenames = [f"{action}_{model._meta.model_name}" for model in app_config.get_models() for action in actions]
    group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))
