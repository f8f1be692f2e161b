"""The deal panel's write-back forms: their inputs built in Python (plain_input), exactly as Django's
widget templates render them, and only the selects through those templates."""

import pytest
from django.urls import reverse
from django.utils import translation

from dealflow.deal_forms import CHANGE_FORMS
from dealflow.templatetags.dealflow_board import plain_input
from tests import factories as make

pytestmark = pytest.mark.django_db


def test_the_panel_renders_its_inputs_without_django_s_widget_templates(client, staff, coeo):
    client.force_login(staff)
    deal = make.deal(coeo.stages.lead, "Rendered panel")
    response = client.get(reverse("dealflow:deal", args=[coeo.company.slug, deal.remote_id]), HTTP_HX_REQUEST="true")

    rendered = {template.name for template in response.templates}
    assert 'name="lost_reason"' in response.content.decode()
    assert "django/forms/widgets/select.html" in rendered  # the stage's and owner's selects
    assert not rendered & {"django/forms/widgets/input.html", "django/forms/widgets/hidden.html"}


@pytest.mark.parametrize("language", ["en", "sv"])
@pytest.mark.parametrize("bound", [False, True])
def test_the_panel_s_inputs_render_as_django_renders_them(coeo, language, bound):
    deal = make.deal(coeo.stages.lead, "Rendered panel", value=1234, currency="EUR")
    wrong = {"value": "-5", "currency": "xx", "expected_close_date": "nope", "update_time": "bad", "lost_reason": "x"}
    with translation.override(language):
        forms = [form(wrong if bound else None, deal=deal) for form in CHANGE_FORMS.values()]
        inputs = [field for form in forms for field in form if field.widget_type != "select"]
        assert {field.name for field in inputs} >= {"update_time", "lost_reason", "value", "currency"}
        assert not bound or any(field.errors for field in inputs)
        for field in inputs:
            assert plain_input(field) == str(field)
