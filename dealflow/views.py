"""The dealflow board: thin views over dealflow.selectors (reads) and the sync scheduler (one write)."""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRefresh

from dealflow.export import csv_lines
from dealflow.forms import BoardFilterForm
from dealflow.freshness import company_integration, sync_freshness, sync_progress
from dealflow.models import Deal
from dealflow.selectors import (
    BOARD_COLUMN_KEYS,
    COLUMN_LABELS,
    board_column_of,
    board_columns,
    column_cards,
    deal_detail,
    export_deals,
    stage_map,
)
from portfolio.models import PortfolioCompany


@dataclass
class BoardScope:
    """The companies a user may see, and the one the page is about (None: all of them)."""

    companies: list[PortfolioCompany]
    company: PortfolioCompany | None

    @property
    def board_companies(self) -> list[PortfolioCompany]:
        return [self.company] if self.company else self.companies

    @classmethod
    def for_request(cls, request, slug: str | None) -> "BoardScope":
        companies = list(PortfolioCompany.objects.visible_to(request.user).active().order_by("name"))
        if slug is None:
            return cls(companies=companies, company=None)
        company = next((company for company in companies if company.slug == slug), None)
        if company is None:
            raise Http404("No such company, or not one you may see.")
        return cls(companies=companies, company=company)


def filter_form(request, scope: BoardScope) -> BoardFilterForm:
    return BoardFilterForm(request.GET, companies=scope.board_companies)


def int_param(request, name: str) -> int | None:
    try:
        return max(int(request.GET[name]), 0)
    except (KeyError, ValueError):
        return None


@login_required
@require_GET
def board(request, slug=None):
    scope = BoardScope.for_request(request, slug)
    now = timezone.now()
    form = filter_form(request, scope)
    filters = form.filters(now=now)
    board_data = board_columns(companies=scope.board_companies, filters=filters, now=now)
    context = {
        "scope": scope,
        "form": form,
        "query": form.query_string(),
        "columns": board_data.columns,
        "hidden": board_data.hidden,
    }
    integration = company_integration(scope.company) if scope.company else None
    if integration:
        context["freshness"] = sync_freshness(integration, now=now)
        context["sync"] = sync_progress(integration, since=None)
    if request.htmx and request.htmx.target == "board-region":
        return render(request, "dealflow/partials/board_region.html", context)
    return render(request, "dealflow/board.html", context)


@login_required
@require_GET
def column(request, column, slug=None):
    if column not in BOARD_COLUMN_KEYS:
        raise Http404("No such column.")
    scope = BoardScope.for_request(request, slug)
    now = timezone.now()
    form = filter_form(request, scope)
    offset = int_param(request, "offset") or 0
    cards, has_more = column_cards(
        stages=stage_map(scope.board_companies), filters=form.filters(now=now), column=column, offset=offset, now=now
    )
    context = {
        "scope": scope,
        "query": form.query_string(),
        "column": {"key": column, "label": COLUMN_LABELS[column], "cards": cards, "has_more": has_more},
        "next_offset": offset + len(cards),
    }
    return render(request, "dealflow/partials/cards.html", context)


@login_required
@require_GET
def deal(request, slug, deal_id):
    scope = BoardScope.for_request(request, slug)
    try:
        found = deal_detail(company=scope.company, deal_id=deal_id)
    except Deal.DoesNotExist:
        raise Http404("No such deal.") from None
    context = {
        "scope": scope,
        "deal": found,
        "deal_url": found.integration.deal_url(found.remote_id),
        "column_label": COLUMN_LABELS.get(board_column_of(found)),
    }
    if request.htmx:
        return render(request, "dealflow/partials/deal_panel.html", context)
    return render(request, "dealflow/deal_page.html", context)


@login_required
@require_GET
def export_csv(request, slug=None):
    scope = BoardScope.for_request(request, slug)
    filters = filter_form(request, scope).filters(now=timezone.now())
    name = scope.company.slug if scope.company else "portfolio"
    response = StreamingHttpResponse(
        csv_lines(export_deals(companies=scope.board_companies, filters=filters)), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="dealflow-{name}-{timezone.localdate():%Y-%m-%d}.csv"'
    return response


@login_required
@require_POST
def sync_now(request, slug):
    if not request.user.is_staff:
        raise PermissionDenied("Only staff may start a sync.")
    scope = BoardScope.for_request(request, slug)
    integration = company_integration(scope.company)
    if integration is None:
        raise Http404("This company has no integration.")
    # Imported here: the scheduler lives in integrations and loads Celery.
    from integrations.services.scheduling import enqueue_sync

    since = int(timezone.now().timestamp()) - 1
    enqueue_sync(integration=integration, full=False)
    context = {"scope": scope, "sync": sync_progress(integration, since=since)}
    return render(request, "dealflow/partials/sync_status.html", context)


@login_required
@require_GET
def sync_status(request, slug):
    scope = BoardScope.for_request(request, slug)
    integration = company_integration(scope.company)
    if integration is None:
        raise Http404("This company has no integration.")
    progress = sync_progress(integration, since=int_param(request, "since"))
    if progress.state == "finished":
        return HttpResponseClientRefresh()
    return render(request, "dealflow/partials/sync_status.html", {"scope": scope, "sync": progress})
