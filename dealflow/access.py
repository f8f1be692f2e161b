"""Who may see and who may change what on the dealflow pages: every dealflow view is wrapped in
`board_login_required` and finds its companies through `BoardScope.for_request`, so one place
decides for the board, the panel, the hidden deals' list, the exports, the sync and the logos; the
deal changes written to the CRM (write-back) also pass `editable_scope`: staff and the company's
editors only."""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django_htmx.http import HttpResponseClientRedirect

from portfolio.models import PortfolioCompany


def visible_companies(user) -> list[PortfolioCompany]:
    """The active companies `user` may see, by name (staff and view_all_companies: all of them)."""
    return list(PortfolioCompany.objects.visible_to(user).active().order_by("name"))


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
        companies = visible_companies(request.user)
        if slug is None:
            return cls(companies=companies, company=None)
        company = next((company for company in companies if company.slug == slug), None)
        if company is None:
            raise Http404("No such company, or not one you may see.")
        return cls(companies=companies, company=company)


def may_write(user, company: PortfolioCompany) -> bool:
    """Whether `user` may change `company`'s deals in its CRM from the board: staff and its editors
    (PortfolioCompany.objects.editable_by). One query per request: the board and the panel both ask;
    none when they may change every company (staff), as `editable_by` says by filtering none out."""
    if not hasattr(user, "_editable_company_ids"):
        editable = PortfolioCompany.objects.editable_by(user)
        if not editable.query.has_filters():
            return True
        user._editable_company_ids = frozenset(editable.values_list("pk", flat=True))
    return company.pk in user._editable_company_ids


def editable_scope(request, slug: str) -> BoardScope:
    """The scope of a write request: 404 for a company the user may not see (as on every page, so
    that a 403 never confirms it exists), 403 for one they may see but not change."""
    scope = BoardScope.for_request(request, slug)
    if not may_write(request.user, scope.company):
        raise PermissionDenied("Only staff and the company's editors may change its deals.")
    return scope


def board_login_required(view):
    """login_required, except that an htmx request (load more, the panel, the sync poll) from someone
    whose session expired gets HX-Redirect to the login page: a plain 302 would make htmx swap the
    login page into the column."""
    plain = login_required(view)

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.htmx and not request.user.is_authenticated:
            next_url = request.htmx.current_url_abs_path or reverse("dealflow:board")
            return HttpResponseClientRedirect(redirect_to_login(next_url).url)
        return plain(request, *args, **kwargs)

    # Every board response is one user's view of confidential deals: no shared or stored copies.
    return cache_control(private=True, no_store=True)(wrapper)
