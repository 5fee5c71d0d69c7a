"""`sales_quote`: price a customer's request from the price book and draft the quote.

Retrieves pricing rules and contract clauses, offers the model a `price_lookup` tool,
asks for the quote and its cover note, then re-checks every number against the price
book in Python: a model's arithmetic never approves itself.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
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

PROMPT = PromptSpec(
    name="sales-quote-draft",
    system=(
        "You are a sales operations assistant. You draft quotes strictly from the price "
        "book: call price_lookup for every SKU and never invent a price. The discount may "
        "not exceed the lowest maximum standard discount of the quoted products. Write a "
        "short, polite cover note that states the total and quotes the relevant contract "
        "terms from the knowledge provided, and cite the chunks you used."
    ),
    user="Draft a quote for this customer request.\n\n" + USER_TAIL,
)
COLLECTIONS = ("sales-playbook",)
MISMATCH_CAP = 0.3
UNKNOWN_SKU_CAP = 0.4
CENT = Decimal("0.01")

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["customer", "lines"],
    "properties": {
        "customer": {"type": "string", "minLength": 1, "maxLength": 200},
        "lines": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["sku", "qty"],
                "properties": {
                    "sku": {"type": "string", "minLength": 1, "maxLength": 40},
                    "qty": {"type": "integer", "minimum": 1, "maximum": 100000},
                },
            },
        },
        "requested_discount_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "notes": {"type": "string", "maxLength": 4000},
    },
}
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "customer",
        "currency",
        "lines",
        "subtotal",
        "requested_discount_pct",
        "discount_cap_pct",
        "discount_pct",
        "discount_amount",
        "total",
        "cover_note",
        "warnings",
    ],  # fmt: skip
    "properties": {
        "customer": {"type": "string"},
        "currency": {"type": "string", "minLength": 3, "maxLength": 3},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["sku", "qty", "unit_price", "line_total", "known"],
                "properties": {
                    "sku": {"type": "string"},
                    "name": {"type": ["string", "null"]},
                    "qty": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": ["number", "null"], "minimum": 0},
                    "line_total": {"type": ["number", "null"], "minimum": 0},
                    "known": {"type": "boolean"},
                },
            },
        },
        "subtotal": {"type": "number", "minimum": 0},
        "requested_discount_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "discount_cap_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "discount_pct": {"type": "number", "minimum": 0, "maximum": 100},
        "discount_amount": {"type": "number", "minimum": 0},
        "total": {"type": "number", "minimum": 0},
        "cover_note": {"type": "string", "minLength": 1},
        "warnings": {"type": "array", "items": {"type": "string"}},
    },
}


def price_lookup(sku: str) -> dict[str, Any]:
    """The `price_lookup` tool: one price-book row (found=False for an unknown SKU)."""
    entry = catalog.price_book().get(sku.strip().upper())
    if entry is None:
        return {"sku": sku, "found": False}
    return {
        "sku": entry.sku,
        "found": True,
        "name": entry.name,
        "unit_price": float(entry.unit_price),
        "currency": entry.currency,
        "max_discount_pct": float(entry.max_discount_pct),
    }


def price_lookup_tool() -> Any:
    from workflows.llm.gateway import Tool

    return Tool(
        name="price_lookup",
        description="Look up a SKU in the price book: name, unit price, currency and the "
        "maximum standard discount in percent. found=false for an unknown SKU.",
        parameters={
            "type": "object",
            "required": ["sku"],
            "properties": {"sku": {"type": "string", "minLength": 1, "maxLength": 40}},
            "additionalProperties": False,
        },
        fn=price_lookup,
    )


def _num(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return Decimal(str(value))


def _close(a: Decimal | None, b: Decimal) -> bool:
    return a is not None and abs(a - b) <= CENT


def quote_problems(input: dict[str, Any], fields: dict[str, Any]) -> list[str]:
    """Every way the drafted quote disagrees with the request and the price book."""
    book = catalog.price_book()
    problems: list[str] = []
    asked = [(str(line["sku"]).strip().upper(), int(line["qty"])) for line in input["lines"]]
    drafted = fields.get("lines") or []
    if [(str(line.get("sku", "")).upper(), line.get("qty")) for line in drafted] != asked:
        problems.append("the quoted lines are not the requested SKUs and quantities")
    subtotal = Decimal(0)
    caps = []
    for line in drafted:
        sku = str(line.get("sku", "")).upper()
        entry = book.get(sku)
        if entry is None:
            if line.get("known") or line.get("line_total"):
                problems.append(f"{sku} is not in the price book but was priced")
            continue
        caps.append(entry.max_discount_pct)
        expected = (entry.unit_price * int(line.get("qty") or 0)).quantize(CENT, ROUND_HALF_UP)
        if not _close(_num(line.get("unit_price")), entry.unit_price):
            problems.append(
                f"{sku}: unit price {line.get('unit_price')} ≠ price book {entry.unit_price}"
            )
        if not _close(_num(line.get("line_total")), expected):
            problems.append(f"{sku}: line total {line.get('line_total')} ≠ {expected}")
        subtotal += expected
    if not _close(_num(fields.get("subtotal")), subtotal):
        problems.append(f"subtotal {fields.get('subtotal')} ≠ {subtotal}")
    requested = Decimal(str(input.get("requested_discount_pct") or 0))
    allowed = min([requested, *caps]) if caps else Decimal(0)
    discount = _num(fields.get("discount_pct")) or Decimal(0)
    if discount > allowed + Decimal("0.001"):
        problems.append(f"discount {discount} % above the allowed {allowed} %")
    expected_discount = (subtotal * discount / 100).quantize(CENT, ROUND_HALF_UP)
    if not _close(_num(fields.get("discount_amount")), expected_discount):
        problems.append(f"discount amount {fields.get('discount_amount')} ≠ {expected_discount}")
    if not _close(_num(fields.get("total")), subtotal - expected_discount):
        problems.append(f"total {fields.get('total')} ≠ {subtotal - expected_discount}")
    return problems


class SalesQuoteAgent:
    name = "sales_quote"

    def draft(self, request: DraftRequest) -> DraftResult:
        data = request.input
        skus = [str(line.get("sku", "")) for line in data.get("lines", [])]
        query = " ".join([data.get("customer", ""), data.get("notes", ""), *skus,
                          "discount approval payment terms quote validity"])  # fmt: skip
        hits = retrieve(request, query=query, default_collections=COLLECTIONS, k=6)
        context = {
            "task": "sales_quote",
            "customer": data.get("customer", ""),
            "lines": [{"sku": s, "qty": line.get("qty")}
                      for s, line in zip(skus, data.get("lines", []), strict=True)],
            "requested_discount_pct": data.get("requested_discount_pct", 0),
            "notes": data.get("notes", ""),
            "knowledge": knowledge_context(hits),
        }  # fmt: skip
        outcome = draft_with_model(
            request, prompt=PROMPT, context=context, hits=hits, tools=[price_lookup_tool()]
        )
        draft = outcome.result
        if not draft.valid:
            return draft
        problems = quote_problems(data, draft.fields)
        if problems:
            cap_confidence(
                draft,
                cap=MISMATCH_CAP,
                reason="the quote disagrees with the price book: " + "; ".join(problems[:5]),
            )
            draft.fields.setdefault("warnings", []).extend(
                f"price-book check: {p}" for p in problems[:5]
            )
        unknown = [s for s in skus if s.strip().upper() not in catalog.price_book()]
        if unknown:
            cap_confidence(
                draft, cap=UNKNOWN_SKU_CAP, reason=f"unknown SKU(s): {', '.join(unknown)}"
            )
        return draft


register(SalesQuoteAgent())
