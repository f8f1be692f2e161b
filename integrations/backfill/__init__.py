"""Stage history backfill: for deals whose stage history the sync never saw, read the provider's
own log of each deal once (Pipedrive: GET /v1/deals/{id}/changelog) and record the stage changes
it holds, under a share of the daily API budget, resuming day by day.

selectors.py: which deals need it, the estimate, the progress; history.py: one deal's log into
StageChange rows; services.py: a run under the budget; tasks.py: the Celery tasks; admin.py: the
integration page's part.
"""
