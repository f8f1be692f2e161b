"""A reader of the few SIE records the financials need (SIE 4B, "SIE filformat"): #RAR financial
years, #KONTO accounts, #IB/#UB opening and closing balances, #PSALDO/#PBUDGET period balances.

No maintained SIE parser exists on PyPI (pysie-accounting is a single 0.0.2 release from 2024),
so this reads just those records. Files are in CP437 ("#FORMAT PC8"); fields are separated by
blanks, may be quoted ("..." with \\" inside) and object lists are in braces ({} or {1 "A"}).
Amounts are signed as in the books: debit positive, credit negative.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

TOKEN = re.compile(r'"((?:[^"\\]|\\.)*)"|(\{[^}]*\})|(\S+)')


class SieError(ValueError):
    pass


@dataclass(frozen=True)
class PeriodBalance:
    year_index: int  # 0 the file's current year, -1 the previous one
    period: date  # the first day of the month
    account: int
    amount: Decimal


@dataclass
class SieFile:
    years: dict[int, tuple[date, date]] = field(default_factory=dict)  # #RAR: index -> (start, end)
    accounts: dict[int, str] = field(default_factory=dict)
    opening: dict[tuple[int, int], Decimal] = field(default_factory=dict)  # (year index, account)
    closing: dict[tuple[int, int], Decimal] = field(default_factory=dict)
    periods: list[PeriodBalance] = field(default_factory=list)
    budgets: list[PeriodBalance] = field(default_factory=list)


def decode(raw: bytes) -> str:
    """SIE files are CP437; a file that says #FORMAT is something else is still read as CP437,
    the one encoding the standard allows."""
    return raw.decode("cp437")


def fields(line: str) -> list[str]:
    return [
        quoted.replace('\\"', '"') if quoted is not None else (braces or bare) for quoted, braces, bare in _tokens(line)
    ]


def _tokens(line: str) -> Iterator[tuple[str | None, str | None, str | None]]:
    for match in TOKEN.finditer(line):
        yield match.group(1), match.group(2), match.group(3)


def parse(raw: bytes) -> SieFile:
    sie = SieFile()
    for number, line in enumerate(decode(raw).splitlines(), start=1):
        parts = fields(line.strip())
        if not parts or not parts[0].startswith("#"):
            continue
        try:
            _read(sie, parts[0].upper(), parts[1:])
        except (IndexError, ValueError, InvalidOperation) as error:
            raise SieError(f"SIE line {number} ({parts[0]}) cannot be read: {type(error).__name__}") from None
    return sie


def _read(sie: SieFile, tag: str, args: list[str]) -> None:
    if tag == "#RAR":
        sie.years[int(args[0])] = (_day(args[1]), _day(args[2]))
    elif tag == "#KONTO":
        sie.accounts[int(args[0])] = args[1] if len(args) > 1 else ""
    elif tag in ("#IB", "#UB"):
        target = sie.opening if tag == "#IB" else sie.closing
        target[(int(args[0]), int(args[1]))] = _amount(args[2])
    elif tag in ("#PSALDO", "#PBUDGET"):
        if args[3] not in ("{}", "{ }"):
            return  # a balance for one object (cost centre, project): the account's total is its own line
        balance = PeriodBalance(int(args[0]), _period(args[1]), int(args[2]), _amount(args[4]))
        (sie.periods if tag == "#PSALDO" else sie.budgets).append(balance)


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))


def _period(text: str) -> date:
    if len(text) != 6:
        raise ValueError("period is not YYYYMM")
    return date(int(text[:4]), int(text[4:6]), 1)


def _amount(text: str) -> Decimal:
    amount = Decimal(text)
    if not amount.is_finite():
        raise ValueError("amount is not finite")
    return amount
