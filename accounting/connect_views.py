"""Connect Fortnox, for staff in the admin: the authorization code flow (the state is bound to
the staff user's session and checked on return) or a service account by TenantId. Every failure
is shown plainly and changes nothing; no token or secret ever reaches a page or a URL we build."""

import secrets

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables

from accounting.services.connect import InvalidTenantId, connect_service_account, store_tokens
from accounting.services.queue import queue_first_sync
from integrations.providers.fortnox import oauth
from integrations.providers.fortnox.errors import FortnoxError
from portfolio.models import PortfolioCompany

SESSION_KEY = "fortnox_oauth"


def redirect_uri() -> str:
    return settings.PUBLIC_BASE_URL + reverse("accounting:fortnox_callback")


def _may_connect(user) -> bool:
    return user.has_perm("integrations.add_integration") and user.has_perm("integrations.change_integration")


def _company_admin(company) -> str:
    return reverse("admin:portfolio_portfoliocompany_change", args=[company.pk])


@never_cache
@staff_member_required
def fortnox_connect(request, slug):
    company = get_object_or_404(PortfolioCompany, slug=slug)
    if not _may_connect(request.user):
        raise PermissionDenied
    error = ""
    if request.method == "POST":
        if not oauth.client_configured():
            error = "Set FORTNOX_CLIENT_ID and FORTNOX_CLIENT_SECRET in the environment first (see the README)."
        elif request.POST.get("method") == "service":
            try:
                integration = connect_service_account(company, request.POST.get("tenant_id", ""))
            except (InvalidTenantId, FortnoxError) as failure:
                error = str(failure)
            else:
                return _connected(request, company, integration)
        else:
            state = secrets.token_urlsafe(32)
            try:
                url = oauth.authorize_url(redirect_uri=redirect_uri(), state=state)
            except FortnoxError as failure:
                error = str(failure)
            else:
                request.session[SESSION_KEY] = {"state": state, "company": company.pk, "user": request.user.pk}
                return redirect(url)
    context = {"company": company, "error": error, "redirect_uri": redirect_uri(), "admin_url": _company_admin(company)}
    return render(request, "accounting/fortnox_connect.html", context, status=400 if error else 200)


@never_cache
@staff_member_required
@sensitive_variables("code", "tokens")
def fortnox_callback(request):
    pending = request.session.pop(SESSION_KEY, None) or {}
    company = PortfolioCompany.objects.filter(pk=pending.get("company")).first()
    state = request.GET.get("state", "")
    if (
        company is None
        or pending.get("user") != request.user.pk
        or not constant_time_compare(state, pending.get("state", ""))
    ):
        return _failed(
            request,
            None,
            "This answer from Fortnox does not belong to a Connect Fortnox you started in this session "
            "(the state does not match). Nothing was connected: start again from the company in the admin.",
        )
    if not _may_connect(request.user):
        raise PermissionDenied
    error = request.GET.get("error", "")
    if error == "access_denied":
        return _failed(request, company, "Access was denied in Fortnox, so nothing was connected.")
    if error or not request.GET.get("code"):
        shown = "".join(ch for ch in error if ch.isalnum() or ch == "_")[:60] or "no code"
        return _failed(request, company, f"Fortnox did not authorise the connection ({shown}). Nothing was connected.")
    code = request.GET["code"]
    try:
        tokens = oauth.exchange_code(code, redirect_uri=redirect_uri())
    except FortnoxError as failure:
        return _failed(request, company, str(failure))
    return _connected(request, company, store_tokens(company, tokens))


def _connected(request, company, integration):
    messages.success(request, f"Fortnox is connected to {company.name}.")
    problem = queue_first_sync(integration)
    if problem:
        messages.warning(request, problem)
    return redirect(_company_admin(company))


def _failed(request, company, message: str):
    context = {
        "company": company,
        "error": message,
        "admin_url": _company_admin(company) if company else reverse("admin:index"),
    }
    return render(request, "accounting/fortnox_failed.html", context, status=400)
