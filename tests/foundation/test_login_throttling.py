"""Login throttling (django-axes): the board login and the admin login lock a username+IP pair."""

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.management import call_command

PASSWORD = "correct horse battery staple"
LOGIN_URLS = ["/login/", "/admin/login/"]


@pytest.fixture
def staff(db):
    return User.objects.create_user("stella", password=PASSWORD, is_staff=True, is_superuser=True)


def log_in(client, url, password, *, ip="203.0.113.7", username="stella"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def fail_until_locked(client, url, **kwargs):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, url, "wrong password", **kwargs)


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_a_few_wrong_passwords_do_not_lock(client, staff, url):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, url, "wrong password").status_code == 200
    assert log_in(client, url, PASSWORD).status_code == 302
    assert is_logged_in(client)


@pytest.mark.parametrize("url", LOGIN_URLS)
def test_too_many_wrong_passwords_lock_even_the_right_one(client, staff, url):
    fail_until_locked(client, url)

    response = log_in(client, url, PASSWORD)

    assert response.status_code == 429
    assert not is_logged_in(client)
    page = response.content.decode()
    assert "Too many login attempts" in page
    assert f"for {settings.AXES_COOLOFF_TIME.seconds // 60} minutes" in page
    assert 'class="site-header"' in page  # the app's layout, not a bare text
    assert 'href="/login/"' in page


def test_the_lock_covers_both_logins(client, staff):
    fail_until_locked(client, "/login/")
    assert log_in(client, "/admin/login/", PASSWORD).status_code == 429


def test_the_lock_is_per_username_and_address(client, staff):
    """An attacker failing from one address cannot lock the partner out from their own."""
    fail_until_locked(client, "/login/", ip="198.51.100.66")

    assert log_in(client, "/login/", PASSWORD, ip="198.51.100.66").status_code == 429
    assert log_in(client, "/login/", PASSWORD, ip="203.0.113.7").status_code == 302
    assert is_logged_in(client)


@pytest.mark.parametrize("command", [["axes_reset"], ["axes_reset_username", "stella"]])
def test_the_reset_commands_unlock(client, staff, command):
    fail_until_locked(client, "/login/")
    assert log_in(client, "/login/", PASSWORD).status_code == 429

    call_command(*command, stdout=StringIO())

    assert log_in(client, "/login/", PASSWORD).status_code == 302
    assert is_logged_in(client)


def test_client_login_with_a_request_still_works(client, staff, rf):
    assert client.login(request=rf.get("/"), username="stella", password=PASSWORD)
