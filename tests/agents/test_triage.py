"""Support triage: classification accuracy of the offline provider, extraction, drafts."""

from __future__ import annotations

from statistics import mean

from tests.agents.conftest import intake_and_run
from workflows.agents import catalog
from workflows.agents.offline import classify_ticket, extract_fields
from workflows.knowledge.models import Chunk
from workflows.llm.models import ModelCall
from workflows.models import Status
from workflows.schemas import schema_errors

SLUG = "demo-support-triage"

# Measured on the shipped held-out set (20 tickets, 4 per category, none of them among the
# 45 examples), all-MiniLM-L6-v2, k=5: 18/20 = 0.90 (the two misses, "API returns 401"
# and "search returns no results", are technical tickets worded unlike any example, and
# get the lowest confidences of the set: 0.36 and 0.19). The model and data are fixed, so
# the figure is deterministic up to floating point; the floor leaves room for two more
# misses. Chance is 0.20 (five balanced classes): a broken embedder or example file drops
# far below 0.80.
ACCURACY_FLOOR = 0.80


def test_classification_accuracy_on_the_held_out_set_is_above_the_floor(embedder):
    # given
    holdout = catalog.triage_holdout()
    examples = {e.text for e in catalog.triage_examples()}
    assert not examples & {t.text for t in holdout}, "held-out tickets must not be examples"
    # when
    results = [(t, classify_ticket(t.text)) for t in holdout]
    # then
    right = [c.category_confidence for t, c in results if c.category == t.category]
    wrong = [c.category_confidence for t, c in results if c.category != t.category]
    accuracy = len(right) / len(results)
    print(f"triage holdout accuracy: {accuracy:.2f} ({len(right)}/{len(results)})")  # noqa: T201
    assert accuracy >= ACCURACY_FLOOR
    # and confidence is honest: the misses are less confident than the hits on average
    if wrong:
        assert mean(wrong) < mean(right)


def test_rule_based_extraction_finds_orders_emails_products_and_amounts():
    text = ("Order ORD-20331 for the coffee machine cost 249.90 EUR; "
            "write to jane.doe@example.com or ord-20331 again")  # fmt: skip
    assert extract_fields(text) == {
        "order_numbers": ["ORD-20331"],
        "emails": ["jane.doe@example.com"],
        "products": ["coffee machine"],
        "amounts": ["249.90 EUR"],
    }


def test_a_ticket_is_classified_extracted_and_answered_from_the_knowledge_base(demo):
    # when
    item = intake_and_run(SLUG, {
        "subject": "Where is my parcel?",
        "body": "My order ORD-48213 has not arrived and tracking has not updated for a week.",
        "from_email": "anna.meyer@example.com",
    })  # fmt: skip
    # then
    draft = item.current_draft
    assert draft.valid
    assert schema_errors(item.version.draft_schema, draft.fields) == {}
    assert draft.fields["category"] == "shipping"
    assert draft.fields["extracted"]["order_numbers"] == ["ORD-48213"]
    assert draft.fields["reply"].startswith("Hello Anna,")
    assert draft.citations
    for citation in draft.citations:
        assert Chunk.objects.filter(id=citation["chunk_id"]).exists()
        # the reply quotes the cited article
    assert any(
        sentence in draft.fields["reply"]
        for c in draft.citations
        for sentence in c["text"].replace("\n", " ").split(". ")
        if len(sentence) > 30
    )
    assert draft.provider_label == "offline"
    assert ModelCall.objects.filter(work_item_id=item.pk, provider_kind="offline").exists()
    # auto mode: committed (one in five sampled into validation)
    assert item.status in (Status.COMMITTED, Status.AWAITING_VALIDATION)
