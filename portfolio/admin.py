from django.contrib import admin
from django.db.models import Count

from integrations.forms import IntegrationForm
from integrations.models import Integration
from portfolio.models import PortfolioCompany


class IntegrationInline(admin.StackedInline):
    model = Integration
    form = IntegrationForm
    extra = 0
    fields = IntegrationForm.Meta.fields
    show_change_link = True


@admin.register(PortfolioCompany)
class PortfolioCompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "reporting_currency", "is_active", "integration_count"]
    list_filter = ["is_active", "reporting_currency", "integrations__provider"]
    search_fields = ["name", "slug", "website"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["viewers"]
    inlines = [IntegrationInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_integration_count=Count("integrations"))

    @admin.display(description="Integrations", ordering="_integration_count")
    def integration_count(self, obj):
        return obj._integration_count
