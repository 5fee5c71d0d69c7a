"""`reconciliation`: match a bank-statement line to an open ledger entry.

Candidates are chosen in Python (same currency, amount within ±5 %, date within ±10
days); the model scores them and picks one or none; the agent then re-checks the pick:
an entry that was not a candidate, or an amount difference that does not add up, caps
the confidence so a person looks.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from workflows.agents import catalog
from workflows.agents.base import DraftRequest, DraftResult, register
from workflows.agents.drafting import (
    USER_TAIL,
    PromptSpec,
    cap_confidence,
    draft_with_model,
    knowledge_context,
    retrieve,
)
from workflows.exceptions import FatalStepError

PROMPT = PromptSpec(
    name="reconciliation-draft",
    system=(
        "You are a bookkeeping assistant. Match the bank-statement line to at most one of "
        "the candidate ledger entries, weighing amount, date, reference and description. "
        "If no candidate clearly fits, or two fit equally well, say so and leave the match "
        "empty (null). Follow the reconciliation policy provided and cite it."
    ),
    user="Reconcile this bank-statement line.\n\n" + USER_TAIL,
)
COLLECTIONS = ("finance-policies",)
AMOUNT_TOLERANCE = Decimal("0.05")
DATE_TOLERANCE_DAYS = 10
CHECK_CAP = 0.3

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["statement_line"],
    "properties": {
        "statement_line": {
            "type": "object",
            "required": ["id", "date", "amount", "currency"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "amount": {"type": "number"},
                "currency": {"type": "string", "minLength": 3, "maxLength": 3},
                "reference": {"type": "string"},
                "description": {"type": "string"},
            },
        }
    },
}
_SCORE = {"type": "number", "minimum": 0, "maximum": 1}
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "statement_id",
        "matched_entry_id",
        "match_score",
        "amount_difference",
        "components",
        "explanation",
    ],  # fmt: skip
    "properties": {
        "statement_id": {"type": "string"},
        "matched_entry_id": {"type": ["string", "null"]},
        "match_score": _SCORE,
        "amount_difference": {"type": ["number", "null"]},
        "components": {
            "type": "object",
            "required": ["amount", "date", "reference", "description"],
            "properties": {k: _SCORE for k in ("amount", "date", "reference", "description")},
        },
        "explanation": {"type": "string", "minLength": 1},
    },
}


def ledger_candidates(*, amount: Decimal, value_date: date, currency: str) -> list[Any]:
    """Open entries in the same currency within ±5 % of the amount and ±10 days."""
    candidates = []
    for entry in catalog.ledger():
        if entry.currency != currency or (entry.amount > 0) != (amount > 0):
            continue
        if abs(entry.amount - amount) > abs(amount) * AMOUNT_TOLERANCE:
            continue
        if abs((entry.date - value_date).days) > DATE_TOLERANCE_DAYS:
            continue
        candidates.append(entry)
    return candidates


class ReconciliationAgent:
    name = "reconciliation"

    def draft(self, request: DraftRequest) -> DraftResult:
        line = request.input["statement_line"]
        amount = Decimal(str(line["amount"]))
        try:
            value_date = date.fromisoformat(line["date"])
        except ValueError:
            raise FatalStepError(f"statement line date {line['date']!r} is not a date") from None
        candidates = ledger_candidates(
            amount=amount, value_date=value_date, currency=line["currency"]
        )
        query = "reconciliation tolerance matching " + " ".join(
            str(line.get(k, "")) for k in ("reference", "description")
        )
        hits = retrieve(request, query=query, default_collections=COLLECTIONS, k=4)
        context = {
            "task": "reconciliation",
            "statement_line": line,
            "candidates": [c.to_json() for c in candidates],
            "knowledge": knowledge_context(hits),
        }
        draft = draft_with_model(request, prompt=PROMPT, context=context, hits=hits).result
        if not draft.valid:
            return draft
        by_id = {c.id: c for c in candidates}
        matched = draft.fields.get("matched_entry_id")
        if matched is not None:
            entry = by_id.get(str(matched))
            if entry is None:
                cap_confidence(
                    draft, cap=CHECK_CAP, reason=f"{matched} is not an open candidate entry"
                )
            else:
                difference = float(amount - entry.amount)
                stated = draft.fields.get("amount_difference")
                if not isinstance(stated, int | float) or abs(stated - difference) > 0.005:
                    cap_confidence(
                        draft,
                        cap=CHECK_CAP,
                        reason=f"amount difference {stated} should be {difference:.2f}",
                    )
        return draft


register(ReconciliationAgent())
