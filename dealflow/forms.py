"""The board's filter bar: search, owner, pipeline and the Closed Won period."""

from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from dealflow import statements
from dealflow.selectors import BoardFilters, company_ids, owners_of, pipelines_of

WON_PERIODS = [
    ("30", _("Last 30 days")),
    ("90", _("Last 3 months")),
    ("182", _("Last 6 months")),
    ("365", _("Last 12 months")),
    ("730", _("Last 2 years")),
    ("all", _("Any time")),
]
DEFAULT_WON_PERIOD = "365"


class LabelIterator(forms.models.ModelChoiceIterator):
    """The choices as (id, label) read with one values query: the board renders them on every
    request, and a model instance per owner cost more than the rest of the filter bar. The query
    is compiled once per field and companies (dealflow/statements.py) and run on every render."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        queryset, key = self.queryset, self.field.choices_key

        def build():
            return queryset.values_list("pk", "name", "integration__company__name")

        for pk, name, company in build() if key is None else statements.rows(key, build):
            yield (pk, self.field.choice_label(name, company))


class CompanyLabelledChoiceField(forms.ModelChoiceField):
    """Labels say which company a record belongs to when the board spans several."""

    iterator = LabelIterator

    def __init__(self, *args, show_company: bool, **kwargs):
        self.show_company = show_company
        self.choices_key = None  # set with the queryset: the values it is built from (statements.rows)
        super().__init__(*args, **kwargs)

    def choice_label(self, name: str, company_name: str) -> str:
        return f"{name} · {company_name}" if self.show_company else name

    def label_from_instance(self, obj):
        return self.choice_label(obj.name, obj.integration.company.name)


class BoardFilterForm(forms.Form):
    q = forms.CharField(
        required=False,
        label=_("Search"),
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("Deal, organization or person")}),
    )
    owner = CompanyLabelledChoiceField(queryset=None, required=False, empty_label=_("All owners"), show_company=False)
    pipeline = CompanyLabelledChoiceField(
        queryset=None, required=False, empty_label=_("All pipelines"), show_company=False
    )
    won = forms.ChoiceField(choices=WON_PERIODS, required=False, label=_("Won in"))

    def __init__(self, data=None, *, companies):
        data = data if data else None
        if data is not None and data.get("won") not in dict(WON_PERIODS):
            # The select must show the period that is applied: the default when missing or invalid
            # (otherwise the browser shows the first option and the next change sends it).
            data = data.copy()
            data["won"] = DEFAULT_WON_PERIOD
        super().__init__(data, initial={"won": DEFAULT_WON_PERIOD})
        several = len(companies) > 1
        key = tuple(company_ids(companies))
        for name, queryset in (("owner", owners_of(companies)), ("pipeline", pipelines_of(companies))):
            self.fields[name].queryset = queryset
            self.fields[name].show_company = several
            self.fields[name].choices_key = (f"filter_choices.{name}", key)  # what the queryset is built from

    def filters(self, *, now) -> BoardFilters:
        """The filters to apply; invalid or missing values fall back to their defaults."""
        cleaned = {}
        if self.is_bound:
            self.is_valid()  # keeps the valid fields in cleaned_data, drops the others
            cleaned = self.cleaned_data
        won = cleaned.get("won") or DEFAULT_WON_PERIOD
        return BoardFilters(
            q=(cleaned.get("q") or "").strip(),
            owner_id=cleaned["owner"].pk if cleaned.get("owner") else None,
            pipeline_id=cleaned["pipeline"].pk if cleaned.get("pipeline") else None,
            won_since=None if won == "all" else now - timedelta(days=int(won)),
        )

    def query_string(self) -> str:
        """The active filters as a query string, for load-more and export links."""
        if not self.is_bound:
            return ""
        defaults = {"won": DEFAULT_WON_PERIOD}
        return urlencode(
            {key: self.data[key] for key in self.fields if self.data.get(key) and self.data[key] != defaults.get(key)}
        )
