"""Celery tasks of the dealflow app (scheduled by beat, see dealflow/metrics/setup.py): thin wrappers."""

from celery import shared_task


@shared_task(name="dealflow.refresh_fx_rates")
def refresh_fx_rates():
    """The newest ECB rates from FX_RATES_URL; an unreachable URL is logged, never raised."""
    from dealflow.fx import refresh_rates

    refresh_rates()


@shared_task(name="dealflow.take_pipeline_snapshots")
def take_pipeline_snapshots():
    from dealflow.metrics.snapshot import take_snapshots

    take_snapshots()
