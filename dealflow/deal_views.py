"""Write-back from the board: move a deal to another stage, mark it won or lost, reopen it, edit
its value, currency, expected close and owner, or create a new deal, in the company's CRM.

Thin views: access.editable_scope decides who may (staff and the company's editors; viewers get
403, other companies 404), deal_forms checks the input, integrations/outbound writes and audits.
Each form is a plain HTML form that works without JavaScript (success redirects to the deal's
page, 303); with htmx the answer is the panel itself, with a notice, and a successful write
refreshes the board behind it ("dealflow:synced", as after Sync now).
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from dealflow.access import board_login_required, editable_scope
from dealflow.deal_forms import CHANGE_FORMS, NewDealForm
from dealflow.models import Deal, Stage
from dealflow.selectors import company_crm_integration, deal_detail
from dealflow.views import board_context, deal_response
from integrations.outbound import services

REFRESH_BOARD = "dealflow:synced"
# Status of a plain (non-htmx) answer; htmx answers 200, since it swaps only successful answers.
STATUS = {"conflict": 409, "failed": 502, "invalid": 400}


@board_login_required
@require_POST
def change_deal(request, slug, deal_id, action):
    scope = editable_scope(request, slug)
    try:
        deal = deal_detail(company=scope.company, deal_id=deal_id)
    except Deal.DoesNotExist:
        raise Http404("No such deal.") from None
    form = CHANGE_FORMS[action](request.POST, deal=deal)
    if not form.is_valid():
        notice = {"kind": "error", "message": " ".join(_form_errors(form))}
        return _deal_answer(request, scope, deal_id, notice, outcome="invalid", bound=form)
    result = services.change_deal(
        user=request.user,
        deal=deal,
        action=action,
        changes=form.changes(),
        seen_update_time=form.cleaned_data["update_time"],
    )
    notice = {
        "kind": "success" if result.ok else result.outcome,
        "message": result.message,
        "differences": result.differences,
        "changed_at": result.changed_at,
    }
    return _deal_answer(request, scope, deal_id, notice, outcome="success" if result.ok else result.outcome)


@board_login_required
@require_http_methods(["GET", "POST"])
def new_deal(request, slug):
    scope = editable_scope(request, slug)
    integration = company_crm_integration(scope.company)
    if integration is None:
        raise Http404("This company has no CRM integration.")
    options = {"integration": integration, "company": scope.company}
    if request.method == "GET":
        form = NewDealForm(stage=_preset_stage(request, integration), **options)
        return _new_deal_page(request, scope, form)
    form = NewDealForm(request.POST, **options)
    if not form.is_valid():
        notice = {"kind": "error", "message": " ".join(_form_errors(form))}
        return _new_deal_page(request, scope, form, notice=notice, status=200 if request.htmx else 400)
    cleaned = form.cleaned_data
    result = services.create_deal(
        user=request.user,
        integration=integration,
        fields=form.fields_to_send(),
        new_organization=cleaned["new_organization"],
        new_person=cleaned["new_person"],
    )
    if not result.ok:
        notice = {"kind": "failed", "message": result.message}
        return _new_deal_page(request, scope, form, notice=notice, status=200 if request.htmx else 502)
    url = reverse("dealflow:deal", args=[scope.company.slug, result.deal_remote_id])
    if not request.htmx:
        messages.success(request, result.message)
        return _see_other(url)
    response = deal_response(request, scope, result.deal_remote_id, extra={"notice": _success(result.message)})
    response["HX-Push-Url"] = url
    response["HX-Trigger"] = REFRESH_BOARD
    return response


# -- answers ------------------------------------------------------------------------------


def _deal_answer(request, scope, deal_id, notice, *, outcome, bound=None):
    if outcome == "success" and not request.htmx:
        messages.success(request, notice["message"])
        return _see_other(reverse("dealflow:deal", args=[scope.company.slug, deal_id]))
    status = 200 if request.htmx else STATUS.get(outcome, 200)
    response = deal_response(request, scope, deal_id, extra={"notice": notice}, bound=bound, status=status)
    if outcome in ("success", "conflict"):  # the cache changed: the cards behind the panel too
        response["HX-Trigger"] = REFRESH_BOARD
    return response


def _see_other(url):
    response = redirect(url)
    response.status_code = 303  # a POST answered: the browser GETs the deal's page
    return response


def _new_deal_page(request, scope, form, *, notice=None, status=200):
    context = {"scope": scope, "new_deal_form": form, "notice": notice}
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, "dealflow/partials/new_deal_panel.html", context, status=status)
    context.update(board_context(request, scope))
    return render(request, "dealflow/board.html", context, status=status)


def _preset_stage(request, integration):
    """The stage a column's "+" asks for (?stage=<its id in the CRM>); None when unknown."""
    try:
        remote_id = int(request.GET.get("stage", ""))
    except ValueError:
        return None
    return Stage.objects.filter(integration=integration, remote_id=remote_id, is_deleted=False).first()


def _form_errors(form) -> list[str]:
    return [
        f"{form.fields[name].label}: {error}" if name in form.fields and name != "update_time" else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]


def _success(message: str) -> dict:
    return {"kind": "success", "message": message}
