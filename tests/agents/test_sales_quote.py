"""Sales quoting through the engine with the offline provider."""

from __future__ import annotations

import json

import pytest

from tests.agents.conftest import intake_and_run, version_like
from workflows.agents.offline import offline_chat
from workflows.knowledge.models import Chunk
from workflows.llm.models import ModelCall, Provider, Route
from workflows.llm.providers import (
    ChatRequest,
    ChatResponse,
    register_offline_handler,
    unregister_offline_handler,
)
from workflows.models import Status
from workflows.schemas import schema_errors

SLUG = "demo-sales-quotes"


def quote(*lines: tuple[str, int], discount: float = 5, notes: str = "") -> dict:
    return {
        "customer": "Acme Retail AG",
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
        "requested_discount_pct": discount,
        "notes": notes,
    }


def test_a_correct_quote_is_schema_valid_cited_and_auto_committed(demo):
    # when
    item = intake_and_run(SLUG, quote(("CRM-PRO", 10), ("ANL-ADD", 10), discount=5))
    # then the quote is priced from the price book and committed downstream
    draft = item.current_draft
    assert item.status == Status.COMMITTED, item.events.last().payload
    assert draft.valid
    assert schema_errors(item.version.draft_schema, draft.fields) == {}
    assert draft.fields["subtotal"] == 11400.0  # 10 × 900 + 10 × 240
    assert draft.fields["discount_pct"] == 5.0
    assert draft.fields["total"] == 10830.0
    assert draft.confidence >= 0.8
    assert draft.provider_label == "offline"
    # citations are real retrieved chunks, and their text is in the cover note
    assert draft.citations
    for citation in draft.citations:
        assert Chunk.objects.filter(id=citation["chunk_id"]).exists()
    assert "payable within 30 days" in draft.fields["cover_note"]
    # every model call went through the gateway: a tool round, then the answer
    calls = ModelCall.objects.filter(work_item_id=item.pk).order_by("id")
    assert [c.provider_kind for c in calls] == ["offline", "offline"]
    assert [c["name"] for c in calls[0].tool_calls] == ["price_lookup", "price_lookup"]
    assert all(c["status"] == "ok" for c in calls[0].tool_calls)
    assert sorted(draft.model_call_ids) == [c.id for c in calls]
    assert len(demo.commits()) == 1


def test_a_discount_above_ten_percent_goes_to_review_with_the_reason(demo):
    # when: 15 % asked on products allowing up to 15 %
    item = intake_and_run(SLUG, quote(("CRM-PRO", 60), ("INT-SAP", 1), discount=15))
    # then
    assert item.status == Status.AWAITING_REVIEW
    assert item.current_draft.fields["discount_pct"] == 15.0
    reasons = item.events.get(to_status=Status.AWAITING_REVIEW).payload["reasons"]
    assert reasons == ["discount above 10 %"]
    assert demo.commits() == {}


def test_a_discount_is_capped_by_the_price_book(demo):
    # when: 20 % asked, but STO-1TB allows at most 5 %
    item = intake_and_run(SLUG, quote(("CRM-STD", 5), ("STO-1TB", 2), discount=20))
    # then
    fields = item.current_draft.fields
    assert fields["discount_cap_pct"] == 5.0
    assert fields["discount_pct"] == 5.0
    assert any("above the price-book maximum" in w for w in fields["warnings"])


def test_an_unknown_sku_is_marked_and_sent_to_review(demo):
    # when
    item = intake_and_run(SLUG, quote(("CRM-PRO", 2), ("CRM-GOLD", 1), discount=0))
    # then
    draft = item.current_draft
    unknown = [line for line in draft.fields["lines"] if line["sku"] == "CRM-GOLD"][0]
    assert unknown["known"] is False
    assert unknown["unit_price"] is None
    assert draft.confidence <= 0.4
    assert item.status == Status.AWAITING_REVIEW
    assert "CRM-GOLD" in draft.rationale


def _inflating_handler(request: ChatRequest) -> ChatResponse:
    """A model that prices every line 10 % above the price book."""
    response = offline_chat(request)
    if not response.content:
        return response
    answer = json.loads(response.content)
    for line in answer["fields"]["lines"]:
        if line["unit_price"] is not None:
            line["unit_price"] = round(line["unit_price"] * 1.1, 2)
    return ChatResponse(content=json.dumps(answer))


@pytest.fixture
def inflating_route(demo):
    provider = Provider.objects.get(name="offline")
    Route.objects.create(name="inflating", provider=provider, model="test-inflating",
                         egress="self-hosted", max_attempts=1)  # fmt: skip
    register_offline_handler(_inflating_handler, model="test-inflating")
    yield version_like(SLUG, routes={"draft": "inflating"})
    unregister_offline_handler(model="test-inflating")


def test_a_price_that_disagrees_with_the_price_book_caps_confidence(inflating_route):
    # when the model's answer misprices the lines (the offline model itself never does)
    item = intake_and_run(SLUG, quote(("CRM-PRO", 10), discount=0))
    # then the agent's own check catches it; the policy sends it to a person
    draft = item.current_draft
    assert draft.confidence <= 0.3
    assert "disagrees with the price book" in draft.rationale
    assert any("CRM-PRO: unit price 990.0" in w for w in draft.fields["warnings"])
    assert item.status == Status.AWAITING_REVIEW
