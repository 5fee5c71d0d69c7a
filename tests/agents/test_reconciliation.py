"""Finance reconciliation through the engine with the offline provider."""

from __future__ import annotations

from tests.agents.conftest import intake_and_run
from workflows.knowledge.models import Chunk
from workflows.llm.models import ModelCall
from workflows.models import Status
from workflows.schemas import schema_errors

SLUG = "demo-reconciliation"


def line(**values: object) -> dict:
    base = {"id": "ST-0001", "currency": "EUR", "reference": "", "description": ""}
    return {"statement_line": {**base, **values}}


def test_a_clean_match_is_matched_with_high_confidence_and_committed(demo):
    # given a bank line paying Greenline's bill LE-0005 two days after booking
    statement = line(date="2025-05-12", amount=-1714.26, reference="BILL-38221",
                     description="SEPA CT to GREENLINE ENERGY BILL-38221")  # fmt: skip
    # when
    item = intake_and_run(SLUG, statement)
    # then
    draft = item.current_draft
    assert draft.valid
    assert schema_errors(item.version.draft_schema, draft.fields) == {}
    assert draft.fields["matched_entry_id"] == "LE-0005"
    assert draft.fields["amount_difference"] == 0.0
    assert draft.fields["components"]["reference"] == 1.0
    assert draft.confidence >= 0.85
    # post-commit mode: committed first, then sampled (or not) into validation
    assert item.status in (Status.COMMITTED, Status.AWAITING_VALIDATION)
    assert len(demo.commits()) == 1
    assert draft.citations
    assert Chunk.objects.filter(id__in=[c["chunk_id"] for c in draft.citations]).count() == len(
        draft.citations
    )
    assert set(ModelCall.objects.filter(work_item_id=item.pk).values_list(
        "provider_kind", flat=True)) == {"offline"}  # fmt: skip


def test_a_line_with_no_open_entry_is_unmatched_with_low_confidence(demo):
    # when
    item = intake_and_run(SLUG, line(date="2025-05-20", amount=-48211.07,
                                     reference="TRX00112233",
                                     description="Unknown Trading Co transfer"))  # fmt: skip
    # then a person decides before anything is committed
    draft = item.current_draft
    assert schema_errors(item.version.draft_schema, draft.fields) == {}
    assert draft.fields["matched_entry_id"] is None
    assert draft.confidence <= 0.3
    assert item.status == Status.AWAITING_REVIEW
    assert demo.commits() == {}


def test_two_look_alike_entries_are_not_matched_confidently(demo):
    # given Vireo's two monthly fees of 1,249.00 on 31 May and 3 June; the bank line
    # quotes neither bill number
    statement = line(date="2025-06-01", amount=-1249.00, reference="MONTHLY FEE",
                     description="SEPA DD VIREO CLOUD HOSTING")  # fmt: skip
    # when
    item = intake_and_run(SLUG, statement)
    # then
    draft = item.current_draft
    assert draft.confidence < 0.7
    assert item.status == Status.AWAITING_REVIEW
    assert "almost as well" in draft.fields["explanation"]
