"""Every SyncRun.error_kind is one of SyncErrorKind: the provider error kinds and the engine's own."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.models import SyncErrorKind, SyncRun
from integrations.providers.base import ErrorKind
from integrations.sync import run_log

pytestmark = pytest.mark.django_db


def test_every_provider_error_kind_is_a_choice():
    assert {kind.value for kind in ErrorKind} <= set(SyncErrorKind.values)


def test_the_engines_kinds_are_choices():
    engine = {"lease_held", "lease_lost", "db_busy", "interrupted", "internal", "budget_exhausted", "rate_limited"}
    assert engine <= set(SyncErrorKind.values)
    assert {run_log.LEASE_HELD, run_log.INTERRUPTED, run_log.DB_BUSY} <= set(SyncErrorKind)


def test_free_text_is_refused(connected):
    run = SyncRun(integration=connected.integration, kind="full", started_at=timezone.now(), error_kind="oops")
    with pytest.raises(ValidationError, match="error_kind"):
        run.full_clean()
    run.error_kind = SyncErrorKind.AUTH
    run.full_clean()


def test_a_failed_run_shows_its_kind_as_a_label(connected):
    connected.integration.credentials = {"api_token": "wrong-token-1234567890"}
    connected.integration.save()
    run = connected.sync()
    assert run.get_error_kind_display() == "Credentials rejected"
