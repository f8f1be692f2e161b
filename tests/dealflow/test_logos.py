"""Company logos in the company switcher and the cards' headers (issue 9, item 17), served by the
app to the users who may see the company."""

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from tests import factories as make

pytestmark = pytest.mark.django_db

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


@pytest.fixture
def logos(settings, tmp_path, coeo, nordic):
    settings.MEDIA_ROOT = tmp_path
    coeo.company.logo.save("coeo.png", ContentFile(PNG))
    nordic.company.logo.save("nordic.html", ContentFile(b"<script>alert(1)</script>"))
    return coeo


def test_logos_show_in_the_switcher_and_card_headers_with_the_name_as_text(client, staff, logos, nordic):
    make.deal(logos.stages.lead, "Coeo lead")
    client.force_login(staff)

    html = client.get(reverse("dealflow:board")).content.decode()

    src = reverse("dealflow:company_logo", args=["coeo"])
    logo = f'<img class="logo" src="{src}" alt="" width="20" height="20">Coeo'
    assert logo in html  # decorative image; the name is the text
    assert 'class="logo logo--small" src="/dealflow/coeo/logo/" alt=""' in html  # the card's header
    assert "/dealflow/nordic/logo/" not in html  # not an image: not shown


def test_the_logo_is_served_as_an_image_to_those_who_may_see_the_company(client, viewer, logos, nordic):
    client.force_login(viewer)

    response = client.get(reverse("dealflow:company_logo", args=["coeo"]))

    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == PNG
    assert response["X-Content-Type-Options"] == "nosniff"
    assert client.get(reverse("dealflow:company_logo", args=["nordic"])).status_code == 404  # not theirs


def test_a_file_that_is_not_an_image_is_never_served(client, staff, logos, nordic):
    client.force_login(staff)

    assert client.get(reverse("dealflow:company_logo", args=["nordic"])).status_code == 404
    nordic.company.logo = ""
    nordic.company.save()
    assert client.get(reverse("dealflow:company_logo", args=["nordic"])).status_code == 404
