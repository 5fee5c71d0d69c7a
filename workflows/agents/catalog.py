"""The demo agents' shipped reference data (`workflows/agents/data/`), read once per
process and immutable afterwards (tuples and frozen dataclasses), so threads of a
thread-pool worker share it safely.

- pricebook.csv: the sales price book (sku, name, unit price, currency, max discount);
- ledger.csv: open ledger entries of the demo company, for reconciliation;
- triage_examples.csv: labelled support tickets (the offline classifier's neighbours);
- triage_holdout.csv: labelled tickets that are not examples (to measure accuracy);
- knowledge/<collection>/*.md: the demo knowledge documents.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
KNOWLEDGE_DIR = DATA_DIR / "knowledge"


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class PriceBookEntry:
    sku: str
    name: str
    unit_price: Decimal
    currency: str
    max_discount_pct: Decimal


@cache
def price_book() -> dict[str, PriceBookEntry]:
    return {
        row["sku"]: PriceBookEntry(
            sku=row["sku"],
            name=row["name"],
            unit_price=Decimal(row["unit_price"]),
            currency=row["currency"],
            max_discount_pct=Decimal(row["max_discount_pct"]),
        )
        for row in _rows("pricebook.csv")
    }


@dataclass(frozen=True)
class LedgerEntry:
    id: str
    date: date
    amount: Decimal
    currency: str
    reference: str
    counterparty: str
    description: str

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "date": self.date.isoformat(),
            "amount": float(self.amount),
            "currency": self.currency,
            "reference": self.reference,
            "counterparty": self.counterparty,
            "description": self.description,
        }


@cache
def ledger() -> tuple[LedgerEntry, ...]:
    return tuple(
        LedgerEntry(
            id=row["id"],
            date=date.fromisoformat(row["date"]),
            amount=Decimal(row["amount"]),
            currency=row["currency"],
            reference=row["reference"],
            counterparty=row["counterparty"],
            description=row["description"],
        )
        for row in _rows("ledger.csv")
    )


@dataclass(frozen=True)
class LabelledTicket:
    text: str
    category: str
    priority: str


@cache
def triage_examples() -> tuple[LabelledTicket, ...]:
    return tuple(LabelledTicket(**row) for row in _rows("triage_examples.csv"))


@cache
def triage_holdout() -> tuple[LabelledTicket, ...]:
    return tuple(LabelledTicket(**row) for row in _rows("triage_holdout.csv"))


TRIAGE_CATEGORIES = ("billing", "shipping", "technical", "account", "returns")
TRIAGE_PRIORITIES = ("low", "normal", "high", "urgent")


def knowledge_files() -> dict[str, list[Path]]:
    """Shipped knowledge documents by collection slug."""
    return {
        folder.name: sorted(folder.glob("*.md"))
        for folder in sorted(KNOWLEDGE_DIR.iterdir())
        if folder.is_dir()
    }
