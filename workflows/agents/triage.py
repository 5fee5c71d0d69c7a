"""`triage`: classify and prioritise a support ticket, extract its fields, draft a reply
citing the knowledge base."""

from __future__ import annotations

from typing import Any

from workflows.agents.base import DraftRequest, DraftResult, register
from workflows.agents.catalog import TRIAGE_CATEGORIES, TRIAGE_PRIORITIES
from workflows.agents.drafting import (
    USER_TAIL,
    PromptSpec,
    draft_with_model,
    knowledge_context,
    retrieve,
)

PROMPT = PromptSpec(
    name="triage-draft",
    system=(
        "You are a customer-support triage assistant. Classify the ticket into exactly one "
        "category (billing, shipping, technical, account, returns) and one priority (low, "
        "normal, high, urgent); extract order numbers (like ORD-12345), email addresses, "
        "product names and money amounts; and draft a short, friendly reply that uses only "
        "the knowledge-base articles provided, citing the chunks you used."
    ),
    user="Triage this support ticket.\n\n" + USER_TAIL,
)
COLLECTIONS = ("support-kb",)

INPUT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["subject", "body"],
    "properties": {
        "subject": {"type": "string", "maxLength": 300},
        "body": {"type": "string", "minLength": 1, "maxLength": 20000},
        "from_email": {"type": "string", "maxLength": 254},
    },
}
_STRINGS = {"type": "array", "items": {"type": "string"}}
DRAFT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["category", "priority", "customer_email", "extracted", "reply"],
    "properties": {
        "category": {"type": "string", "enum": list(TRIAGE_CATEGORIES)},
        "priority": {"type": "string", "enum": list(TRIAGE_PRIORITIES)},
        "customer_email": {"type": "string"},
        "extracted": {
            "type": "object",
            "required": ["order_numbers", "emails", "products", "amounts"],
            "properties": {
                "order_numbers": _STRINGS,
                "emails": _STRINGS,
                "products": _STRINGS,
                "amounts": _STRINGS,
            },
        },
        "reply": {"type": "string", "minLength": 1},
    },
}


class TriageAgent:
    name = "triage"

    def draft(self, request: DraftRequest) -> DraftResult:
        data = request.input
        ticket = {
            "subject": data.get("subject", ""),
            "body": data.get("body", ""),
            "from_email": data.get("from_email", ""),
        }
        query = f"{ticket['subject']}\n{ticket['body']}"
        hits = retrieve(request, query=query, default_collections=COLLECTIONS, k=4)
        context = {"task": "triage", "ticket": ticket, "knowledge": knowledge_context(hits)}
        return draft_with_model(request, prompt=PROMPT, context=context, hits=hits).result


register(TriageAgent())
