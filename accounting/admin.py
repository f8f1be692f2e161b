"""The accounting tables, read-only in the admin, and "Connect Fortnox" on a company's page
(added to PortfolioCompanyAdmin from here: portfolio imports no other app)."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounting.models import CompanyInformation, Invoice
from integrations.admin_read_only import ReadOnlyAdmin
from integrations.models import Integration
from portfolio.admin import PortfolioCompanyAdmin


@admin.display(description=_("Fortnox"))
def fortnox_connection(self, obj):
    if not obj or not obj.pk:
        return "—"
    connect = reverse("accounting:fortnox_connect", args=[obj.slug])
    integration = Integration.objects.filter(company=obj, provider="fortnox").select_related("sync_state").first()
    if integration is None:
        return format_html('<a href="{}">{}</a>', connect, _("Connect Fortnox"))
    state = integration.sync_state
    if state.needs_attention:
        status = _("Needs reconnecting: {reason}").format(reason=state.attention_reason[:300])
    else:
        status = _("Connected")
    return format_html(
        '{} · <a href="{}">{}</a> · <a href="{}">{}</a>',
        status,
        connect,
        _("Connect again"),
        reverse("accounting:financials", args=[obj.slug]),
        _("Financials"),
    )


PortfolioCompanyAdmin.fortnox_connection = fortnox_connection
PortfolioCompanyAdmin.readonly_fields = [*PortfolioCompanyAdmin.readonly_fields, "fortnox_connection"]


@admin.register(CompanyInformation)
class CompanyInformationAdmin(ReadOnlyAdmin):
    list_display = ["company", "name", "organisation_number", "currency", "synced_at"]


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdmin):
    list_display = ["company", "document_number", "customer_name", "invoice_date", "total", "currency", "balance"]
    list_filter = ["company", "cancelled", "credit", "currency"]
    search_fields = ["customer_name", "document_number"]
