"""The financials pages: a company's (beside its board) and the portfolio's. Who may see which
company is decided exactly as on the board (dealflow/access.py)."""

from django.shortcuts import render
from django.utils import timezone

from accounting import pages, selectors
from dealflow.access import BoardScope, board_login_required


def today():
    """The day the figures are for (tests fix it)."""
    return timezone.localdate()


@board_login_required
def company_financials(request, slug):
    scope = BoardScope.for_request(request, slug)
    page = pages.financials(scope.company, today())
    return render(request, "accounting/financials.html", {"scope": scope, "page": page})


@board_login_required
def portfolio_financials(request):
    scope = BoardScope.for_request(request, None)
    rows = selectors.portfolio(scope.companies, today())
    return render(request, "accounting/portfolio.html", {"scope": scope, "rows": rows})
