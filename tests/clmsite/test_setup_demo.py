import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_setup_demo_creates_admin_once_and_prints_password_once():
    # given an empty database, when set-up runs twice, then one admin exists and the password shows once
    first, second = io.StringIO(), io.StringIO()
    call_command("setup_demo", "--skip-pipelines", stdout=first)
    call_command("setup_demo", "--skip-pipelines", stdout=second)
    password = first.getvalue().split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    assert "password:" not in second.getvalue()
