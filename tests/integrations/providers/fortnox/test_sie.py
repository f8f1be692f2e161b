"""The SIE reader on files in the real format: CP437, quoted fields, object lists, CRLF."""

from datetime import date
from decimal import Decimal

import pytest

from integrations.providers.fortnox import sie
from integrations.providers.fortnox.sandbox.seed import companies
from integrations.providers.fortnox.sandbox.sie_export import export

# As Fortnox and other programs write them: CRLF, CP437, an #ADRESS with quotes inside, a #PSALDO
# per cost centre beside the account's total, a previous year, and #PBUDGET.
SAMPLE = (
    "#FLAGGA 0\r\n"
    '#PROGRAM "Fortnox" 3.0\r\n'
    "#FORMAT PC8\r\n"
    "#SIETYP 2\r\n"
    '#FNAMN "Sm\u00e5l\u00e4ndska \u00d6lbryggeriet AB"\r\n'
    '#ADRESS "Anna \\"Kassan\\" \u00c5berg" "Storgatan 1" "123 45 V\u00e4xj\u00f6" "0470-123"\r\n'
    "#RAR 0 20250101 20251231\r\n"
    "#RAR -1 20240101 20241231\r\n"
    '#KONTO 1930 "F\u00f6retagskonto"\r\n'
    '#KONTO 3001 "F\u00f6rs\u00e4ljning inom Sverige"\r\n'
    '#KONTO 7210 "L\u00f6ner till tj\u00e4nstem\u00e4n"\r\n'
    "#IB 0 1930 150000.00\r\n"
    "#UB 0 1930 98000.50\r\n"
    "#IB -1 1930 90000.00\r\n"
    "#PSALDO 0 202501 3001 {} -45000.00\r\n"
    '#PSALDO 0 202501 3001 {1 "Nord"} -5000.00\r\n'
    "#PSALDO 0 202501 7210 {} 38000.00 12\r\n"
    "#PSALDO -1 202412 3001 {} -41000.00\r\n"
    "#PBUDGET 0 202501 3001 {} -50000.00\r\n"
    "#UNKNOWN whatever 1 2 3\r\n"
).encode("cp437")


def test_reads_the_records_the_financials_need():
    parsed = sie.parse(SAMPLE)
    assert parsed.years == {0: (date(2025, 1, 1), date(2025, 12, 31)), -1: (date(2024, 1, 1), date(2024, 12, 31))}
    assert parsed.opening[(0, 1930)] == Decimal("150000.00") and parsed.closing[(0, 1930)] == Decimal("98000.50")
    assert [(p.year_index, p.period, p.account, p.amount) for p in parsed.periods] == [
        (0, date(2025, 1, 1), 3001, Decimal("-45000.00")),
        (0, date(2025, 1, 1), 7210, Decimal("38000.00")),
        (-1, date(2024, 12, 1), 3001, Decimal("-41000.00")),
    ]
    assert [b.amount for b in parsed.budgets] == [Decimal("-50000.00")]


def test_cp437_letters_are_read_as_swedish():
    parsed = sie.parse(SAMPLE)
    assert parsed.accounts[1930] == "Företagskonto"
    assert parsed.accounts[3001] == "Försäljning inom Sverige"
    assert parsed.accounts[7210] == "Löner till tjänstemän"
    assert "ö".encode("cp437") in SAMPLE and "ö".encode() not in SAMPLE  # really CP437 bytes


def test_quoted_fields_keep_escaped_quotes():
    assert sie.fields('#ADRESS "Anna \\"Kassan\\" Åberg" "Storgatan 1"') == [
        "#ADRESS",
        'Anna "Kassan" Åberg',
        "Storgatan 1",
    ]


def test_a_broken_line_names_its_line_number():
    with pytest.raises(sie.SieError, match="line 2"):
        sie.parse(b"#SIETYP 2\r\n#PSALDO 0 2025 3001 {} abc\r\n")


def test_the_sandbox_export_round_trips():
    company = companies(date(2026, 11, 25))["100002"]
    parsed = sie.parse(export(company, 3, generated=date(2026, 11, 25)))
    assert parsed.accounts[1930] == "Företagskonto / affärskonto"
    stored = {(month, account): amount for (month, account), amount in company.balances.items() if month.year == 2026}
    assert {(p.period, p.account): p.amount for p in parsed.periods} == stored
