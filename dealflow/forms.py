"""The board's filter bar: search, owner, pipeline and the Closed Won period."""

from datetime import timedelta
from functools import partial
from urllib.parse import urlencode

from django import forms
from django.db.models import F, Value
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
    request, and a model instance per owner cost more than the rest of the filter bar. The board's
    owners and pipelines are read together (FilterChoices); a field on its own reads its queryset."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        source = self.field.choices_source
        rows = self.queryset.values_list(*CHOICE_VALUES) if source is None else source()
        for pk, name, company in rows:
            yield (pk, self.field.choice_label(name, company))


CHOICE_VALUES = ("pk", "name", "integration__company__name")


class FilterChoices:
    """The filter bar's owners and pipelines, each in its own order, read in one statement (a round
    trip less on every board), compiled once per companies (dealflow/statements.py) and run on
    every render: rows (kind, id, name, company name, then what each kind sorts on)."""

    def __init__(self, key, owners, pipelines) -> None:
        self.key, self.owners, self.pipelines = key, owners, pipelines
        self.by_kind = None

    def rows(self, kind: int) -> list[tuple]:
        """(id, name, company name) of the owners (kind 0) or the pipelines (kind 1)."""
        if self.by_kind is None:
            self.by_kind = {0: [], 1: []}
            for row_kind, *row in statements.rows(self.key, self.build):
                self.by_kind[row_kind].append(row[:3])
        return self.by_kind[kind]

    def build(self):
        company = F("integration__company__name")
        # Each kind's order as its queryset's (selectors.owners_of, pipelines_of), in three columns.
        owners = self.owners.annotate(kind=Value(0), s1=F("name"), s2=Value(0), s3=company)
        pipelines = self.pipelines.annotate(kind=Value(1), s1=company, s2=F("order_nr"), s3=F("name"))
        parts = [part.order_by().values_list("kind", *CHOICE_VALUES, "s1", "s2", "s3") for part in (owners, pipelines)]
        return parts[0].union(parts[1], all=True).order_by("kind", "s1", "s2", "s3")


class CompanyLabelledChoiceField(forms.ModelChoiceField):
    """Labels say which company a record belongs to when the board spans several."""

    iterator = LabelIterator

    def __init__(self, *args, show_company: bool, **kwargs):
        self.show_company = show_company
        self.choices_source = None  # the rows of its choices, read with another field's (FilterChoices)
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
        owners, pipelines = owners_of(companies), pipelines_of(companies)
        choices = FilterChoices(("filter_choices", tuple(company_ids(companies))), owners, pipelines)
        for kind, (name, queryset) in enumerate((("owner", owners), ("pipeline", pipelines))):
            self.fields[name].queryset = queryset
            self.fields[name].show_company = several
            self.fields[name].choices_source = partial(choices.rows, kind)

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
