"""One language per page, chosen by the browser: Swedish for sv, English for everything else."""

import ast
import gettext
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from dealflow.models import StageChange
from tests.dealflow.helpers import page_text

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale" / "sv" / "LC_MESSAGES"
TEMPLATES = Path(settings.BASE_DIR) / "templates"


def po_entries() -> list[dict]:
    """The .po file's entries as {"msgctxt"?, "msgid", "msgid_plural"?, "msgstr" or "msgstr[n]"}."""
    entries = []
    for block in LOCALE.joinpath("django.po").read_text().strip().split("\n\n"):
        fields, current = {"fuzzy": "#, fuzzy" in block or ", fuzzy" in block}, None
        for line in block.splitlines():
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) (".*")$', line)
            if match:
                current = match.group(1)
                fields[current] = ast.literal_eval(match.group(2))
            elif line.startswith('"') and current:
                fields[current] += ast.literal_eval(line)
        if fields.get("msgid"):
            entries.append(fields)
    return entries


def get(client, url, language):
    return client.get(url, headers={"accept-language": language})


def text_nodes(response) -> set[str]:
    return {" ".join(text.split()) for text in re.findall(r">([^<]+)<", response.content.decode())} - {""}


def test_every_string_is_translated_and_the_committed_mo_matches_the_po():
    catalog = gettext.GNUTranslations(LOCALE.joinpath("django.mo").open("rb"))
    entries = po_entries()
    assert len(entries) > 100
    for entry in entries:
        assert not entry["fuzzy"], entry["msgid"]
        context = f"{entry['msgctxt']}\x04" if "msgctxt" in entry else ""
        if "msgid_plural" in entry:
            assert entry["msgstr[0]"] and entry["msgstr[1]"], entry["msgid"]
            assert catalog.ngettext(context + entry["msgid"], entry["msgid_plural"], 1) == entry["msgstr[0]"]
            assert catalog.ngettext(context + entry["msgid"], entry["msgid_plural"], 5) == entry["msgstr[1]"]
        else:
            assert entry["msgstr"], f"not translated: {entry['msgid']!r}"
            assert catalog.gettext(context + entry["msgid"]) == entry["msgstr"], (
                f"{entry['msgid']!r}: django.mo is out of date, run `manage.py compilemessages`"
            )


def test_every_translate_tag_in_the_templates_is_in_the_swedish_catalog():
    """A {% translate %} added without `makemessages -l sv` (and a translation) fails here."""
    msgids = {entry["msgid"] for entry in po_entries()}
    literals = set()
    for template in TEMPLATES.rglob("*.html"):
        for double, single in re.findall(r"""{%\s*translate\s+(?:"([^"]+)"|'([^']+)')""", template.read_text()):
            literals.add(double or single)
    assert len(literals) > 50
    assert sorted(literals - msgids) == []


def test_the_board_is_wholly_swedish_for_a_swedish_browser(client, staff, board_data):
    client.force_login(staff)
    url = reverse("dealflow:company_board", args=[board_data.company.slug])

    swedish, english = get(client, url, "sv-SE,sv;q=0.9,en;q=0.5"), get(client, url, "en-GB,en;q=0.9")

    sv_text, en_text = page_text(swedish), page_text(english)
    assert '<html lang="sv">' in swedish.content.decode()
    for phrase in (
        "Alla ägare",
        "Alla pipelines",
        "Vunnen",
        "Offert",
        "Synkronisera nu",
        "Logga ut",
        "synkad för 3 min sedan",
        "2 773 065 kr",
        "40 000 €",
        "Omappade: 1 affär",
        "Dolda: 5 affärer",
    ):
        assert phrase in sv_text, phrase
    for phrase in (
        "All owners",
        "Closed Won",
        "Proposal",
        "Sync now",
        "Log out",
        "synced 3 min ago",
        "SEK 2,773,065",
        "€40,000",
        "Unmapped: 1 deal",
        "Hidden: 5 deals",
    ):
        assert phrase in en_text, phrase
    # No English label of ours is left on the Swedish page (names from Pipedrive are the same in both).
    translated = {entry["msgid"] for entry in po_entries() if entry.get("msgstr") not in (None, entry["msgid"])}
    assert sorted(text_nodes(english) & translated & text_nodes(swedish)) == []


def test_a_browser_asking_for_another_language_gets_english_throughout(client, staff, board_data):
    client.force_login(staff)

    response = get(client, reverse("dealflow:company_board", args=[board_data.company.slug]), "de-DE,de;q=0.9")

    assert '<html lang="en">' in response.content.decode()
    assert "All owners" in page_text(response) and "SEK 2,773,065" in page_text(response)


def test_panel_fields_and_stage_history_share_one_date_format(client, staff, board_data, settings):
    settings.TIME_ZONE = "Europe/Stockholm"
    deal = board_data.stages.proposal.deals.get(title="Needle: Acme platform")
    deal.add_time = datetime(2026, 3, 30, 10, 13, tzinfo=UTC)
    deal.save()
    StageChange.objects.create(
        deal=deal,
        from_stage=board_data.stages.lead,
        to_stage=board_data.stages.proposal,
        changed_at=datetime(2026, 11, 25, 17, 10, tzinfo=UTC),
    )
    client.force_login(staff)
    url = reverse("dealflow:deal", args=[board_data.company.slug, deal.remote_id])

    sv_text = page_text(client.get(url, headers={"accept-language": "sv", "HX-Request": "true"}))
    en_text = page_text(client.get(url, headers={"accept-language": "en", "HX-Request": "true"}))

    # Local time (Stockholm: UTC+2 in March, +1 in November), the same format for fields and history.
    assert "Skapad 30 mar 2026 12:13" in sv_text and "25 nov 2026 18:10 Lead" in sv_text
    assert "Steghistorik" in sv_text and "Värde 2 773 065 kr (SEK)" in sv_text and "Ägare Anna" in sv_text
    assert "Added 30 Mar 2026, 12:13" in en_text and "25 Nov 2026, 18:10 Lead" in en_text
    assert "Stage history" in en_text and "Value SEK 2,773,065 (SEK)" in en_text
    assert "p.m." not in en_text and "UTC" not in en_text


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "a long password 1")


def test_the_admin_is_wholly_swedish_or_wholly_english(client, superuser):
    client.force_login(superuser)

    swedish = page_text(get(client, reverse("admin:index"), "sv"))
    english = page_text(get(client, reverse("admin:index"), "en"))

    # Django's own admin text and ours, in the same language.
    for phrase in ("Portföljaffärer", "Portfölj", "Portföljbolag", "Affärsflöde", "Stegmappningar", "Logga ut"):
        assert phrase in swedish, phrase
    for phrase in ("Portfolio dealflow", "Portfolio companies", "Stage mappings", "Log out"):
        assert phrase in english, phrase
        assert phrase not in swedish, phrase


def test_the_admin_company_form_labels_are_translated(client, superuser):
    client.force_login(superuser)

    swedish = page_text(get(client, reverse("admin:portfolio_portfoliocompany_add"), "sv"))

    assert "Rapportvaluta" in swedish and "Webbplats" in swedish and "Läsare" in swedish
    assert "Reporting currency" not in swedish


def test_login_page_follows_the_browser(client):
    assert "Användarnamn" in page_text(get(client, reverse("login"), "sv"))
    assert "Username" in page_text(get(client, reverse("login"), "en"))


def test_the_integrations_admin_is_swedish_too(client, superuser, coeo):
    client.force_login(superuser)
    listing = reverse("admin:integrations_integration_changelist")
    page = reverse("admin:integrations_integration_change", args=[coeo.integration.pk])

    swedish_list, swedish_page = page_text(get(client, listing, "sv")), page_text(get(client, page, "sv"))

    for phrase in ("Integrationer", "Aktiverad", "Senast synkad", "Utfall", "Omappade"):
        assert phrase in swedish_list, phrase
    for phrase in ("Testa anslutningen", "Synkronisera nu", "Senaste synkronisering", "Stegmappningar"):
        assert phrase in swedish_page, phrase
    assert "Enabled" in page_text(get(client, listing, "en"))
