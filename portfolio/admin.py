from django import forms
from django.contrib import admin
from django.db.models import Count
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.decorators.debug import sensitive_post_parameters

from portfolio.models import PortfolioCompany


class PortfolioCompanyForm(forms.ModelForm):
    """The admin supplies the model and fields."""

    def clean_reporting_currency(self):
        return (self.cleaned_data.get("reporting_currency") or "").strip().upper()  # "sek" is fine


@admin.register(PortfolioCompany)
class PortfolioCompanyAdmin(admin.ModelAdmin):
    form = PortfolioCompanyForm
    list_display = ["name", "slug", "reporting_currency", "is_active", "integration_count"]
    list_filter = ["is_active", "reporting_currency", "integrations__provider"]
    search_fields = ["name", "slug", "website"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["viewers", "editors"]
    inlines = []  # integrations/admin.py adds the company's integrations (portfolio imports no other app)

    @method_decorator(sensitive_post_parameters())  # the integration inlines carry credentials
    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_integration_count=Count("integrations"))

    @admin.display(description=_("Integrations"), ordering="_integration_count")
    def integration_count(self, obj):
        return obj._integration_count
