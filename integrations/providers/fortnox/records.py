"""Fortnox's JSON shapes read into plain records; lenient about optional fields, strict about the
ones a record is useless without (an invoice's number and date)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation


def _decimal(value, default: str = "0") -> Decimal:
    try:
        number = Decimal(str(value if value not in (None, "") else default))
    except InvalidOperation:
        raise ValueError(f"not a number: {str(value)[:40]!r}") from None
    if not number.is_finite():
        raise ValueError("not a finite number")
    return number


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def _flag(value) -> bool:
    return value is True or str(value).lower() == "true"


@dataclass(frozen=True)
class CompanyInfo:
    name: str
    organisation_number: str

    @classmethod
    def from_api(cls, row: dict) -> CompanyInfo:
        return cls(name=str(row.get("CompanyName") or ""), organisation_number=str(row.get("OrganizationNumber") or ""))


@dataclass(frozen=True)
class FinancialYear:
    id: int
    from_date: date
    to_date: date

    @classmethod
    def from_api(cls, row: dict) -> FinancialYear:
        return cls(
            id=int(row["Id"]), from_date=date.fromisoformat(row["FromDate"]), to_date=date.fromisoformat(row["ToDate"])
        )


@dataclass(frozen=True)
class Account:
    number: int
    description: str

    @classmethod
    def from_api(cls, row: dict) -> Account:
        return cls(number=int(row["Number"]), description=str(row.get("Description") or "")[:200])


@dataclass(frozen=True)
class Invoice:
    document_number: int
    customer_number: str
    customer_name: str
    invoice_date: date
    due_date: date | None
    total: Decimal
    net: Decimal
    vat: Decimal
    currency: str
    currency_rate: Decimal
    cancelled: bool
    credit: bool
    booked: bool
    balance: Decimal

    @classmethod
    def from_api(cls, row: dict) -> Invoice:
        total = _decimal(row.get("Total"))
        # The list gives Net and TotalVat where Fortnox includes them; without, the total is all net.
        vat = _decimal(row.get("TotalVat"))
        return cls(
            document_number=int(row["DocumentNumber"]),
            customer_number=str(row.get("CustomerNumber") or "")[:50],
            customer_name=str(row.get("CustomerName") or "")[:200],
            invoice_date=date.fromisoformat(row["InvoiceDate"]),
            due_date=_date(row.get("DueDate")),
            total=total,
            net=_decimal(row.get("Net"), default=str(total - vat)),
            vat=vat,
            currency=str(row.get("Currency") or "SEK")[:3].upper(),
            currency_rate=_decimal(row.get("CurrencyRate"), default="1"),
            cancelled=_flag(row.get("Cancelled")),
            credit=_flag(row.get("Credit")) if "Credit" in row else total < 0,
            booked=_flag(row.get("Booked")),
            balance=_decimal(row.get("Balance")),
        )
