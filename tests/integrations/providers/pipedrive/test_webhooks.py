"""Pipedrive webhooks: reading deliveries whatever types the docs promise, and registering,
checking and removing webhooks against the sandbox over loopback."""

from datetime import UTC, datetime

import pytest

from integrations.inbound import registration
from integrations.inbound.endpoints import ensure_endpoint, webhook_url
from integrations.models import WebhookEndpoint
from integrations.providers.pipedrive.webhooks import WEBHOOK_OBJECTS, parse_event, parse_timestamp


def meta(**fields):
    return {"meta": {"id": "e1", "entity": "deal", "action": "change", "entity_id": "5", **fields}}


@pytest.mark.parametrize("entity_id", ["42", 42, " 42 "])
def test_ids_may_be_strings_or_integers(entity_id):
    assert parse_event(meta(entity_id=entity_id)).entity_id == 42


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-19T10:41:33.816Z",
        "2026-03-19T10:41:33Z",
        "2026-03-19 10:41:33",
        1773916893,
        "1773916893",
        1773916893000,
    ],
)
def test_timestamps_may_be_iso_text_or_epoch(value):
    assert parse_timestamp(value).replace(microsecond=0) == datetime(2026, 3, 19, 10, 41, 33, tzinfo=UTC)


@pytest.mark.parametrize("value", [None, True, "soon", {}, 1e300])
def test_unreadable_timestamps_are_none(value):
    assert parse_timestamp(value) is None


def test_entities_and_actions_in_neutral_terms():
    event = parse_event(
        {
            **meta(entity="person", action="delete", merged_to_id="9"),
            "data": {"update_time": "2026-01-01T00:00:00Z"},
        }
    )
    assert (event.entity, event.action, event.merged_to_id) == ("persons", "delete", 9)
    assert event.update_time == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_event(meta(entity="product")).entity == ""
    assert parse_event(meta(id=17)).event_id == "17"


@pytest.mark.parametrize("body", [{}, {"meta": []}, meta(id=""), meta(id=None), meta(id=True), meta(id="x" * 101), []])
def test_what_is_not_an_event_is_refused(body):
    with pytest.raises(ValueError):
        parse_event(body)


@pytest.fixture
def endpoint(served):
    return ensure_endpoint(served.integration)


def test_register_creates_one_v2_webhook_per_object_as_the_tokens_user(served, endpoint):
    report = registration.register(served.integration)
    assert report.ok and not report.warning
    hooks = served.sandbox.webhooks.registered.values()
    assert sorted(hook["event_object"] for hook in hooks) == sorted(WEBHOOK_OBJECTS)
    for hook in hooks:
        assert hook["version"] == "2.0" and hook["event_action"] == "*" and hook["user_id"] == 1
        assert hook["subscription_url"] == webhook_url(endpoint)
        assert (hook["http_auth_user"], hook["http_auth_password"]) == (
            endpoint.credentials["user"],
            endpoint.credentials["password"],
        )
    stored = WebhookEndpoint.objects.get(pk=served.integration.pk)
    assert stored.remote_ids == {hook["event_object"]: hook["id"] for hook in hooks}
    assert stored.check_ok and stored.registered_at
    # Registering again keeps what is there.
    assert registration.register(served.integration).ok
    assert len(served.sandbox.webhooks.registered) == len(WEBHOOK_OBJECTS)


def test_a_non_admin_token_registers_with_a_warning(served, endpoint):
    served.sandbox.store.users[1]["access"] = [{"app": "sales", "admin": False}]
    report = registration.register(served.integration)
    assert report.ok and "not a Pipedrive admin" in report.warning
    assert "not a Pipedrive admin" in WebhookEndpoint.objects.get(pk=served.integration.pk).check_message


def test_the_daily_check_re_registers_webhooks_pipedrive_deleted(served, endpoint):
    registration.register(served.integration)
    registered = served.sandbox.webhooks.registered
    deal_hook = next(hook_id for hook_id, hook in registered.items() if hook["event_object"] == "deal")
    served.sandbox.webhooks.remove(deal_hook)
    check = registration.check(served.integration)
    assert not check.ok and "deal" in check.message
    assert not WebhookEndpoint.objects.get(pk=served.integration.pk).check_ok
    reports = registration.repair_all()
    assert reports[served.integration.pk].ok
    assert "deal" in {hook["event_object"] for hook in registered.values()}
    assert registration.check(served.integration).ok


def test_unregister_removes_them_all(served, endpoint):
    registration.register(served.integration)
    assert registration.unregister(served.integration).ok
    assert served.sandbox.webhooks.registered == {}
    stored = WebhookEndpoint.objects.get(pk=served.integration.pk)
    assert stored.remote_ids == {} and stored.registered_at is None
    assert registration.repair_all() == {}  # nothing to re-register once unregistered


def test_a_refusal_is_reported_without_the_password(served, endpoint):
    served.sandbox.api_tokens = frozenset({"another"})
    report = registration.register(served.integration)
    assert not report.ok and "rejected" in report.message
    assert endpoint.credentials["password"] not in report.message
