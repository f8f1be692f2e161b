"""Sync now when the task queue is not there: the broker's folders exist from start-up, and a broker
that refuses the task gets a clear message instead of a 500."""

import socket

import pytest
from django.apps import apps
from django.contrib.auth.models import User

from config.celery import app as celery_app
from integrations.services.scheduling import QUEUE_UNAVAILABLE_MESSAGE, SyncQueueUnavailable, enqueue_sync


def test_start_up_creates_the_filesystem_broker_folders(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "processed_folder": str(tmp_path / "processed"),
        "control_folder": str(tmp_path / "control"),
    }

    apps.get_app_config("config").ready()

    assert sorted(path.name for path in tmp_path.iterdir()) == ["control", "processed", "queue"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_down(monkeypatch):
    """Celery pointed at a Redis that is not there (a closed loopback port), for this test only."""
    monkeypatch.setitem(celery_app.conf, "broker_url", f"redis://127.0.0.1:{closed_port()}/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    monkeypatch.setattr(celery_app, "_pool", None)
    monkeypatch.setattr(celery_app.amqp, "_producer_pool", None)


# transaction=True: outside a transaction enqueue_sync sends at once, as in a real request.
@pytest.mark.django_db(transaction=True)
def test_enqueue_sync_raises_one_clear_error(integration, redis_down):
    with pytest.raises(SyncQueueUnavailable, match="could not be queued"):
        enqueue_sync(integration=integration)


@pytest.mark.django_db(transaction=True)
def test_sync_now_on_the_board_says_the_queue_is_down(client, integration, redis_down):
    client.force_login(User.objects.create_user("stella", is_staff=True))

    response = client.post(f"/dealflow/{integration.company.slug}/sync/", HTTP_HX_REQUEST="true")

    assert response.status_code == 200  # htmx swaps it in where the button was
    html = response.content.decode()
    assert QUEUE_UNAVAILABLE_MESSAGE in html
    assert "redis://" not in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("operation", ["sync_now", "full_resync"])
def test_admin_sync_buttons_say_the_queue_is_down(admin_client, integration, redis_down, operation):
    response = admin_client.post(f"/admin/integrations/integration/{integration.pk}/run/{operation}/", follow=True)

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert any(QUEUE_UNAVAILABLE_MESSAGE in message for message in shown), shown
    assert not any("queued for" in message for message in shown)
    assert "redis://" not in response.content.decode()
