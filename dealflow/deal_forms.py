"""The forms behind write-back: a deal's stage, won, lost, reopen and edit, and a new deal.

Every form checks its input against our cache of the company's CRM (a stage of the deal's own
pipeline, an owner of the company's account ...), so bad input gets a clear answer before
anything is sent. `changes()` gives the fields for the write-back service under the neutral names
(stage_id, status, value ...); empty fields are left out there, never sent as null.
"""

from datetime import datetime

from django import forms
from django.db.models import CharField, F, Value
from django.utils.translation import gettext_lazy as _

from dealflow import statements
from dealflow.access import may_write
from dealflow.columns import COLUMN_KEYS, UNMAPPED
from dealflow.models import Organization, Owner, Person, Pipeline, Stage
from dealflow.selectors import COLUMN_LABELS, StageMap
from portfolio.models import currency_code_validator

STALE = _("This form is out of date: reload the deal and try again.")


class SeenTimeField(forms.CharField):
    """The deal's update_time as the user saw it (ISO 8601), carried by every change form; empty
    when the deal had none."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(STALE) from None
        if moment.tzinfo is None:
            raise forms.ValidationError(STALE)
        return moment


def stage_choices(stages) -> list:
    """Stages grouped under the board's columns, in board order, each under the company's own name."""
    return grouped_stage_choices(
        (stage.remote_id, stage.name, getattr(getattr(stage, "mapping", None), "target", None)) for stage in stages
    )


def grouped_stage_choices(stages) -> list:
    """`stage_choices` of (remote id, name, mapping target) rows."""
    grouped = {key: [] for key in COLUMN_KEYS}
    for remote_id, name, target in stages:
        grouped[target or UNMAPPED].append((remote_id, name))
    return [(str(COLUMN_LABELS[key]), options) for key, options in grouped.items() if options]


PANEL_CHOICES = "_panel_choices"  # where a deal keeps its panel's choices for its forms


def panel_choices(deal) -> tuple[list, list]:
    """([(remote id, name, mapping target)] of the stages of the deal's pipeline, [(remote id, name)] of
    its integration's active owners): the stage form's and the edit form's choices, in one statement
    (UNION ALL, each in its own order; a round trip less on every panel), compiled once per pipeline
    (dealflow/statements.py) and read once per deal object, for every form built for it."""
    if PANEL_CHOICES not in vars(deal):
        integration_id, pipeline_remote_id = deal.integration_id, deal.pipeline_remote_id
        stages, owners = [], []
        for kind, remote_id, name, target, *_ in statements.rows(
            ("deal_forms.panel_choices", integration_id, pipeline_remote_id),
            lambda: panel_choices_query(integration_id, pipeline_remote_id),
        ):
            if kind == 0:
                stages.append((remote_id, name, target))
            else:
                owners.append((remote_id, name))
        vars(deal)[PANEL_CHOICES] = (stages, owners)
    return vars(deal)[PANEL_CHOICES]


def panel_choices_query(integration_id: int, pipeline_remote_id: int | None):
    """Rows (kind: 0 a stage, 1 an owner; remote id, name, mapping target, then what each sorts on)."""
    stages = Stage.objects.filter(
        integration_id=integration_id, pipeline_remote_id=pipeline_remote_id, is_deleted=False
    ).annotate(kind=Value(0), target=F("mapping__target"), s1=F("order_nr"), s2=Value(""))
    owners = Owner.objects.filter(integration_id=integration_id, is_active=True).annotate(
        kind=Value(1), target=Value(None, output_field=CharField()), s1=Value(0), s2=F("name")
    )
    # Stages by order_nr, remote id; owners by name, remote id: each as its form's own query did.
    parts = [
        part.order_by().values_list("kind", "remote_id", "name", "target", "s1", "s2") for part in (stages, owners)
    ]
    return parts[0].union(parts[1], all=True).order_by("kind", "s1", "s2", "remote_id")


def remote_choices(model, integration, **filters) -> list:
    rows = model.objects.filter(integration=integration, **filters).order_by("name", "remote_id")
    return [(remote_id, name) for remote_id, name in rows.values_list("remote_id", "name")]


class DealChangeForm(forms.Form):
    update_time = SeenTimeField()

    def __init__(self, data=None, *, deal, **kwargs):
        self.deal = deal
        kwargs.setdefault("auto_id", "deal-%s")  # unique beside the board's filter form
        super().__init__(
            data, initial={"update_time": deal.update_time.isoformat() if deal.update_time else ""}, **kwargs
        )

    def changes(self) -> dict:
        raise NotImplementedError


class StageForm(DealChangeForm):
    stage_id = forms.TypedChoiceField(label=_("Stage"), coerce=int)

    def __init__(self, data=None, *, deal, **kwargs):
        super().__init__(data, deal=deal, **kwargs)
        self.fields["stage_id"].choices = grouped_stage_choices(panel_choices(deal)[0])
        self.fields["stage_id"].initial = deal.stage_remote_id

    def changes(self) -> dict:
        return {"stage_id": self.cleaned_data["stage_id"]}


class WonForm(DealChangeForm):
    def changes(self) -> dict:
        return {"status": "won"}


class ReopenForm(DealChangeForm):
    def changes(self) -> dict:
        return {"status": "open"}


class LostForm(DealChangeForm):
    lost_reason = forms.CharField(label=_("Lost reason"), required=False, max_length=255)

    def changes(self) -> dict:
        return {"status": "lost", "lost_reason": self.cleaned_data["lost_reason"] or None}


class CurrencyField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=3, validators=[currency_code_validator], **kwargs)

    def to_python(self, value):
        return super().to_python(value).upper()  # "eur" is fine


class DealFieldsMixin(forms.Form):
    """Value, currency, expected close and owner: in the edit form and the new deal's."""

    value = forms.DecimalField(label=_("Value"), required=False, min_value=0, max_digits=18, decimal_places=2)
    currency = CurrencyField(label=_("Currency"), required=False)
    expected_close_date = forms.DateField(
        label=_("Expected close"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    owner_id = forms.TypedChoiceField(label=_("Owner"), required=False, coerce=int, empty_value=None)

    def owner_choices(self, integration):
        # Every panel's edit form: the statement compiled once per integration (dealflow/statements.py).
        owners = statements.rows(
            ("deal_forms.owner_choices", integration.pk),
            lambda: (
                Owner.objects.filter(integration=integration, is_active=True)
                .order_by("name", "remote_id")
                .values_list("remote_id", "name")
            ),
        )
        self.fields["owner_id"].choices = [("", "—"), *owners]

    def deal_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("value", "currency", "expected_close_date", "owner_id")}


class EditForm(DealFieldsMixin, DealChangeForm):
    def __init__(self, data=None, *, deal, **kwargs):
        super().__init__(data, deal=deal, **kwargs)
        self.fields["owner_id"].choices = [("", "—"), *panel_choices(deal)[1]]
        for name, value in (
            ("value", deal.value),
            ("currency", deal.currency),
            ("expected_close_date", deal.expected_close_date),
            ("owner_id", deal.owner_remote_id),
        ):
            self.fields[name].initial = value

    def changes(self) -> dict:
        return self.deal_fields()


CHANGE_FORMS = {"stage": StageForm, "won": WonForm, "lost": LostForm, "reopen": ReopenForm, "edit": EditForm}


class NewDealForm(DealFieldsMixin):
    title = forms.CharField(label=_("Title"), max_length=255)
    pipeline_id = forms.TypedChoiceField(label=_("Pipeline"), required=False, coerce=int, empty_value=None)
    stage_id = forms.TypedChoiceField(label=_("Stage"), required=False, coerce=int, empty_value=None)
    org_id = forms.TypedChoiceField(label=_("Organization"), required=False, coerce=int, empty_value=None)
    new_organization = forms.CharField(label=_("or a new organization"), required=False, max_length=255)
    person_id = forms.TypedChoiceField(label=_("Contact person"), required=False, coerce=int, empty_value=None)
    new_person = forms.CharField(label=_("or a new person"), required=False, max_length=255)

    field_order = ["title", "pipeline_id", "stage_id", "value", "currency", "org_id", "new_organization"]

    def __init__(self, data=None, *, integration, company, stage=None):
        initial = {"currency": company.reporting_currency}
        if stage is not None:
            initial.update(stage_id=stage.remote_id, pipeline_id=stage.pipeline_remote_id)
        super().__init__(data, initial=initial, auto_id="new-deal-%s")
        self.integration = integration
        pipelines = Pipeline.objects.filter(integration=integration, is_deleted=False).order_by("order_nr", "remote_id")
        self.pipelines = {pipeline.remote_id: pipeline for pipeline in pipelines}
        self.fields["pipeline_id"].choices = [(key, pipeline.name) for key, pipeline in self.pipelines.items()]
        stages = list(
            Stage.objects.filter(integration=integration, is_deleted=False, pipeline_remote_id__in=self.pipelines)
            .select_related("mapping")
            .order_by("pipeline_remote_id", "order_nr", "remote_id")
        )
        self.stage_pipeline = {stage.remote_id: stage.pipeline_remote_id for stage in stages}
        self.fields["stage_id"].choices = [("", "—"), *self._stages_by_pipeline(stages)]
        self.fields["org_id"].choices = [("", "—"), *remote_choices(Organization, integration)]
        self.fields["person_id"].choices = [("", "—"), *remote_choices(Person, integration)]
        self.owner_choices(integration)

    def _stages_by_pipeline(self, stages) -> list:
        """One group per pipeline and column ("Sales · Lead") when there are several pipelines."""
        several = len(self.pipelines) > 1
        groups = []
        for pipeline_id, pipeline in self.pipelines.items():
            for label, options in stage_choices(s for s in stages if s.pipeline_remote_id == pipeline_id):
                groups.append((f"{pipeline.name} · {label}" if several else label, options))
        return groups

    def clean(self):
        cleaned = super().clean()
        stage_id, pipeline_id = cleaned.get("stage_id"), cleaned.get("pipeline_id")
        if stage_id is not None and pipeline_id is not None and self.stage_pipeline.get(stage_id) != pipeline_id:
            self.add_error("stage_id", _("Choose a stage of the chosen pipeline."))
        if cleaned.get("org_id") and cleaned.get("new_organization"):
            self.add_error("new_organization", _("Choose an organization or type a new one, not both."))
        if cleaned.get("person_id") and cleaned.get("new_person"):
            self.add_error("new_person", _("Choose a person or type a new one, not both."))
        return cleaned

    def fields_to_send(self) -> dict:
        cleaned = self.cleaned_data
        fields = {name: cleaned[name] for name in ("title", "pipeline_id", "stage_id", "org_id", "person_id")}
        if fields["stage_id"] is not None:
            fields["pipeline_id"] = self.stage_pipeline[fields["stage_id"]]
        return {**fields, **self.deal_fields()}


# -- what the board and the panel show a user who may write ----------------------------------


def panel_forms(user, company, deal, *, bound=None) -> dict:
    """The panel's write-back forms, for staff and the company's editors only (others get none);
    `bound`, a submitted form with errors, takes its own form's place."""
    if not may_write(user, company):
        return {"can_write": False}
    forms = {name: bound if type(bound) is form else form(deal=deal) for name, form in CHANGE_FORMS.items()}
    return {"can_write": True, "write_forms": forms}


def new_deal_stages(user, company, integration, stages: StageMap) -> dict[str, int]:
    """{column key: the remote id of its first stage} for the "+" in each column header (new deal
    preset to that column), for staff and the company's editors only: of the board's stage map, which
    holds the integration's stages that are not deleted, of pipelines that are not, by pipeline order,
    pipeline, stage order and id (a query of their own cost a round trip on every company's board)."""
    if integration is None or not may_write(user, company):
        return {}
    first = {}
    for remote_id, target in stages.open_stages.get(integration.pk, []):
        first.setdefault(target, remote_id)
    return first
