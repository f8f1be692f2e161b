"""The filter bar's selects, built in Python, match what Django's Select widget renders."""

import re

import pytest
from django.http import QueryDict

from dealflow.forms import BoardFilterForm
from dealflow.templatetags.dealflow_board import plain_select
from tests.dealflow import factories as make

pytestmark = pytest.mark.django_db


def normalised(html):
    return re.sub(r">\s+<", "><", str(html)).strip()


@pytest.mark.parametrize("query", ["", "won=90", "owner={anna}&pipeline={pipeline}"])
def test_plain_selects_render_like_django_widgets(coeo, nordic, query):
    make.owner(coeo.integration, "Ove <Olsson> & Co")
    data = QueryDict(query.format(anna=coeo.anna.pk, pipeline=coeo.pipeline.pk))
    form = BoardFilterForm(data, companies=[coeo.company, nordic.company])

    for name in ("owner", "pipeline", "won"):
        assert normalised(plain_select(form[name])) == normalised(form[name]), name
