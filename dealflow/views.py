"""The dealflow board: thin views over dealflow.selectors (reads) and the sync scheduler (one write)."""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from dealflow.access import BoardScope, board_login_required
from dealflow.columns import column_of_deal
from dealflow.deal_forms import new_deal_stages, panel_forms
from dealflow.export import csv_lines, export_rows, xlsx_file
from dealflow.forms import BoardFilterForm
from dealflow.freshness import companies_health, header_integration, sync_freshness, sync_progress
from dealflow.models import Deal
from dealflow.selectors import (
    COLUMN_LABELS,
    LISTABLE_COLUMN_KEYS,
    board_columns,
    column_cards,
    company_crm_integration,
    deal_detail,
    export_deals,
    stage_map,
)


def filter_form(request, scope: BoardScope) -> BoardFilterForm:
    return BoardFilterForm(request.GET, companies=scope.board_companies)


# Query integers are clamped so that no database OFFSET or datetime overflows (a 500 before).
MAX_INT_PARAM = 10**10  # epoch seconds in the year 2286
MAX_OFFSET = 1_000_000  # far past the end of any column


def int_param(request, name: str, *, maximum: int = MAX_INT_PARAM) -> int | None:
    """A non-negative integer query parameter, at most `maximum`; None when missing or not a number."""
    try:
        return min(max(int(request.GET[name]), 0), maximum)
    except (KeyError, ValueError):
        return None


def board_context(request, scope: BoardScope) -> dict:
    """Everything the board page shows (the deal page shows it too, behind the open panel)."""
    now = timezone.now()
    form = filter_form(request, scope)
    board_data = board_columns(companies=scope.board_companies, filters=form.filters(now=now), now=now)
    query = form.query_string()
    path = reverse("dealflow:company_board", args=[scope.company.slug]) if scope.company else reverse("dealflow:board")
    context = {
        "scope": scope,
        "form": form,
        "query": query,
        "board_path": path,
        "board_url": f"{path}?{query}" if query else path,
        "columns": board_data.columns,
        "hidden": board_data.hidden,
    }
    if scope.company:
        context["integration"] = integration = header_integration(scope.company)
        context["new_deal_stages"] = new_deal_stages(request.user, scope.company, integration, board_data.stages)
        if integration:
            # Progress first: it notices a killed sync and reloads the integration the header reads.
            context["sync"] = sync_progress(integration, since=None)
            context["freshness"] = sync_freshness(integration, now=now)
    else:
        context["health"] = companies_health(scope.companies, now=now)
    return context


@board_login_required
@require_safe
def board(request, slug=None):
    scope = BoardScope.for_request(request, slug)
    if slug is None and len(scope.companies) == 1:
        # Someone who may see one company has no use for "All companies": land on its board.
        target = reverse("dealflow:company_board", args=[scope.companies[0].slug])
        query = request.GET.urlencode()
        return redirect(f"{target}?{query}" if query else target)
    context = board_context(request, scope)
    if request.htmx and request.htmx.target == "board-region":
        return render(request, "dealflow/partials/board_region.html", context)
    return render(request, "dealflow/board.html", context)


@board_login_required
@require_safe
def column(request, column, slug=None):
    if column not in LISTABLE_COLUMN_KEYS:
        raise Http404("No such column.")
    scope = BoardScope.for_request(request, slug)
    now = timezone.now()
    form = filter_form(request, scope)
    offset = int_param(request, "offset", maximum=MAX_OFFSET) or 0
    cards, has_more = column_cards(
        stages=stage_map(scope.board_companies), filters=form.filters(now=now), column=column, offset=offset, now=now
    )
    context = {
        "scope": scope,
        "query": form.query_string(),
        "column": {"key": column, "label": COLUMN_LABELS[column], "cards": cards, "has_more": has_more},
        "offset": offset,
        "next_offset": offset + len(cards),
    }
    return render(request, "dealflow/partials/cards.html", context)


@board_login_required
@require_safe
def deal(request, slug, deal_id):
    return deal_response(request, BoardScope.for_request(request, slug), deal_id)


def deal_response(request, scope: BoardScope, deal_id: int, *, extra=None, bound=None, status=200):
    """A deal (by its id in the CRM) as the panel (htmx) or as its own page: the company's board
    with the panel open. Write-back adds `extra` (a notice) and `bound` (its form with errors)."""
    try:
        found = deal_detail(company=scope.company, deal_id=deal_id)
    except Deal.DoesNotExist:
        raise Http404("No such deal.") from None
    context = {
        "scope": scope,
        "deal": found,
        "deal_url": found.integration.deal_url(found.remote_id),
        "column_label": COLUMN_LABELS.get(column_of_deal(found)),
        **panel_forms(request.user, scope.company, found, bound=bound),
        **(extra or {}),
    }
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "dealflow/partials/deal_panel.html", context, status=status)
    # A pasted or restored deal URL: the company's board (with the URL's filters), the panel open.
    context.update(board_context(request, scope))
    return render(request, "dealflow/board.html", context, status=status)


@board_login_required
@require_safe
def company_logo(request, slug):
    """A company's uploaded logo (MEDIA_ROOT), to the users who may see the company, as an image only."""
    company = BoardScope.for_request(request, slug).company
    content_type = company.logo_content_type
    if content_type is None:
        raise Http404("No logo.")
    try:
        response = FileResponse(company.logo.open("rb"), content_type=content_type)
    except FileNotFoundError:
        raise Http404("No logo.") from None
    # An SVG opened on its own must not run script; nothing may sniff it into HTML either.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=3600"
    return response


def export_scope(request, slug):
    """The rows of the filtered board the user may see, and the file name (without extension)."""
    scope = BoardScope.for_request(request, slug)
    filters = filter_form(request, scope).filters(now=timezone.now())
    name = scope.company.slug if scope.company else "portfolio"
    rows = export_rows(export_deals(companies=scope.board_companies, filters=filters))
    return rows, f"dealflow-{name}-{timezone.localdate():%Y-%m-%d}"


@board_login_required
@require_safe
def export_csv(request, slug=None):
    rows, name = export_scope(request, slug)
    response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@board_login_required
@require_safe
def export_xlsx(request, slug=None):
    rows, name = export_scope(request, slug)
    return FileResponse(xlsx_file(rows), as_attachment=True, filename=f"{name}.xlsx", content_type=XLSX_TYPE)


@dataclass(frozen=True)
class QueueUnavailable:
    """The sync header's state when the sync could not even be queued (shaped like a SyncProgress)."""

    message: str
    state: str = "unavailable"
    polling: bool = False
    run: None = None
    since: None = None


@board_login_required
@require_POST
def sync_now(request, slug):
    scope = BoardScope.for_request(request, slug)  # 404 first: a 403 would confirm the company exists
    if not request.user.is_staff:
        raise PermissionDenied("Only staff may start a sync.")
    integration = company_crm_integration(scope.company)
    if integration is None:
        raise Http404("This company has no integration.")
    # Imported here: the scheduler lives in integrations and loads Celery.
    from integrations.services.scheduling import SyncQueueUnavailable, enqueue_sync

    since = int(timezone.now().timestamp()) - 1
    try:
        enqueue_sync(integration=integration, full=False)
    except SyncQueueUnavailable as error:
        # 200, so that htmx swaps the message in where the button was.
        context = {"scope": scope, "sync": QueueUnavailable(message=str(error))}
        return render(request, "dealflow/partials/sync_status.html", context)
    context = {"scope": scope, "sync": sync_progress(integration, since=since)}
    return render(request, "dealflow/partials/sync_status.html", context)


@board_login_required
@require_safe
def sync_status(request, slug):
    scope = BoardScope.for_request(request, slug)
    integration = company_crm_integration(scope.company)
    if integration is None:
        raise Http404("This company has no integration.")
    progress = sync_progress(integration, since=int_param(request, "since"))
    response = render(request, "dealflow/partials/sync_status.html", {"scope": scope, "sync": progress})
    if progress.state == "finished":
        # board.js refreshes the board in place, keeping scroll and an open panel.
        response["HX-Trigger"] = "dealflow:synced"
    return response
