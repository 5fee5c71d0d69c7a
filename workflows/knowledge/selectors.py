"""Knowledge plane reads: hybrid search, the drift report, and the pages' queries.

Search = pgvector HNSW top-n (cosine) fused with Postgres full-text top-n by reciprocal
rank fusion (RRF). Both sides read only chunks that are active and embedded with their
collection's current model, so a collection being re-embedded keeps serving from its old
index until its switch.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Max, Q, QuerySet
from pgvector.django import CosineDistance

from workflows.knowledge.embeddings import get_embedder
from workflows.knowledge.models import (
    ACTIVE_JOB_STATUSES,
    TEXT_SEARCH_CONFIG,
    Chunk,
    Collection,
    Document,
    IngestJob,
    ReembedJob,
    RetrievalLog,
    vector_expression,
)

RRF_K = 60  # the usual constant from Cormack et al.; damps the weight of top ranks
SEARCH_MODES = ("hybrid", "vector", "text")


@dataclass(frozen=True)
class SearchHit:
    chunk_id: int
    document_id: int
    document_title: str
    source: str
    text: str
    score: float  # RRF score (higher is better); comparable within one result list
    collection_id: int = 0
    position: int = 0
    version: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    vector_distance: float | None = None  # cosine distance, when the vector side found it
    text_rank: float | None = None  # ts_rank_cd, when the full-text side found it
    embedding_model: str = ""


def search(
    *,
    query: str,
    collection_ids: list[int] | None = None,
    metadata: dict[str, Any] | None = None,
    k: int = 10,
    work_item_id: int | None = None,
    step: str = "",
    log: bool = True,
    mode: str = "hybrid",
) -> list[SearchHit]:
    """The k best chunks for `query`, optionally within collections and matching metadata.

    `metadata` filters chunks whose metadata contains it (JSON containment, `@>`). Each
    call writes a RetrievalLog (unless `log=False`) recording query, filters, chunk ids,
    scores, time and the work item / step it served: agents cite the returned chunk ids.
    `mode` is "hybrid" (default), "vector" or "text" (the last two for comparison).
    """
    if mode not in SEARCH_MODES:
        raise ValueError(f"mode must be one of {SEARCH_MODES}")
    started = time.perf_counter()
    query = query.strip()
    hits: list[SearchHit] = []
    models_used: list[str] = []
    if query and k > 0:
        groups = _collections_by_model(collection_ids)
        candidates = max(4 * k, 40)
        ranked_lists: list[list[int]] = []
        distances: dict[int, float] = {}
        text_ranks: dict[int, float] = {}
        for model_name, ids in groups.items():
            models_used.append(model_name)
            if mode in ("hybrid", "vector"):
                found = vector_candidates(
                    query_vector=get_embedder(model_name).embed([query])[0],
                    model_name=model_name,
                    collection_ids=ids,
                    metadata=metadata,
                    limit=candidates,
                )
                ranked_lists.append([chunk_id for chunk_id, _d in found])
                distances.update(found)
            if mode in ("hybrid", "text"):
                found = text_candidates(
                    query=query,
                    model_name=model_name,
                    collection_ids=ids,
                    metadata=metadata,
                    limit=candidates,
                )
                ranked_lists.append([chunk_id for chunk_id, _r in found])
                text_ranks.update(found)
        fused = reciprocal_rank_fusion(ranked_lists)[:k]
        hits = _hits(fused, distances, text_ranks)
    took_ms = (time.perf_counter() - started) * 1000
    if log:
        RetrievalLog.objects.create(
            query=query,
            collection_ids=sorted(collection_ids) if collection_ids is not None else None,
            filters={"metadata": metadata or {}, "k": k, "mode": mode},
            chunk_ids=[h.chunk_id for h in hits],
            scores=[h.score for h in hits],
            embedding_models=models_used,
            took_ms=took_ms,
            work_item_id=work_item_id,
            step=step,
        )
    return hits


def _collections_by_model(collection_ids: list[int] | None) -> dict[str, list[int]]:
    collections = Collection.objects.all()
    if collection_ids is not None:
        collections = collections.filter(id__in=collection_ids)
    groups: dict[str, list[int]] = defaultdict(list)
    for collection_id, model_name in collections.values_list("id", "embedding_model"):
        groups[model_name].append(collection_id)
    return dict(groups)


def reciprocal_rank_fusion(ranked_lists: Iterable[list[int]]) -> list[tuple[int, float]]:
    """(id, score) best first; score = Σ 1 / (RRF_K + rank) over the lists naming the id."""
    scores: dict[int, float] = defaultdict(float)
    best_rank: dict[int, int] = {}
    for ranked in ranked_lists:
        for rank, item in enumerate(ranked, start=1):
            scores[item] += 1.0 / (RRF_K + rank)
            best_rank[item] = min(best_rank.get(item, rank), rank)
    return sorted(scores.items(), key=lambda pair: (-pair[1], best_rank[pair[0]], pair[0]))


def _active_chunks(
    *, model_name: str, collection_ids: list[int], metadata: dict[str, Any] | None
) -> QuerySet[Chunk]:
    chunks = Chunk.objects.filter(
        embedding_model=model_name, retired_at__isnull=True, collection_id__in=collection_ids
    )
    if metadata:
        chunks = chunks.filter(metadata__contains=metadata)
    return chunks


def vector_candidates(
    *,
    query_vector: list[float],
    model_name: str,
    collection_ids: list[int],
    metadata: dict[str, Any] | None = None,
    limit: int = 40,
    exact: bool = False,
) -> list[tuple[int, float]]:
    """(chunk id, cosine distance) nearest first, through the model's HNSW index.

    Filters are applied during the index scan; with `hnsw.iterative_scan` the scan goes
    on past `ef_search` candidates until `limit` rows pass them (relaxed order, so the
    rows are re-sorted here). `exact=True` disables index scans: the ground truth.
    """
    chunks = _active_chunks(model_name=model_name, collection_ids=collection_ids, metadata=metadata)
    distance = CosineDistance(vector_expression(len(query_vector)), query_vector)
    rows_query = (
        chunks.annotate(distance=distance).order_by("distance").values_list("id", "distance")
    )[:limit]
    with transaction.atomic(), connection.cursor() as cursor:
        if exact:
            cursor.execute("SET LOCAL enable_indexscan = off")
        else:
            cursor.execute(
                "SELECT set_config('hnsw.ef_search', %s, true),"
                " set_config('hnsw.iterative_scan', 'relaxed_order', true)",
                [str(max(int(settings.AIOS_KNOWLEDGE_EF_SEARCH), limit))],
            )
        rows = list(rows_query)
    return sorted(((int(i), float(d)) for i, d in rows), key=lambda pair: pair[1])


# Full-text: the query's words are OR-ed (plainto_tsquery ANDs them, which loses every chunk
# lacking one word of a natural question); ts_rank_cd still favours chunks with more of
# them. Each whitespace-separated word keeps its own parts AND-ed, so an identifier such as
# "AX-4417" (parsed as 'ax' & '-4417') matches only chunks holding that exact identifier.
MAX_QUERY_WORDS = 32


def _any_word_tsquery(query: str) -> tuple[str, list[str]]:
    words = query.split()[:MAX_QUERY_WORDS] or [""]
    sql = " || ".join(["plainto_tsquery(%s::regconfig, %s)"] * len(words))
    params = [p for word in words for p in (TEXT_SEARCH_CONFIG, word)]
    return f"({sql})", params


def text_candidates(
    *,
    query: str,
    model_name: str,
    collection_ids: list[int],
    metadata: dict[str, Any] | None = None,
    limit: int = 40,
) -> list[tuple[int, float]]:
    """(chunk id, ts_rank_cd) best first, through the GIN index on the generated tsvector."""
    chunks = _active_chunks(model_name=model_name, collection_ids=collection_ids, metadata=metadata)
    base_sql, base_params = chunks.values("id").query.sql_with_params()
    tsquery_sql, tsquery_params = _any_word_tsquery(query)
    sql = (
        f"SELECT c.id, ts_rank_cd(c.search, q.query, 1) AS rank "
        f"FROM knowledge_chunk c, (SELECT {tsquery_sql} AS query) q "
        f"WHERE c.search @@ q.query AND c.id IN ({base_sql}) "
        f"ORDER BY rank DESC, c.id LIMIT %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*tsquery_params, *base_params, limit])
        return [(int(i), float(r)) for i, r in cursor.fetchall()]


def _hits(
    fused: list[tuple[int, float]], distances: dict[int, float], text_ranks: dict[int, float]
) -> list[SearchHit]:
    chunks = Chunk.objects.select_related("document").in_bulk([chunk_id for chunk_id, _ in fused])
    hits = []
    for chunk_id, score in fused:
        chunk = chunks[chunk_id]
        hits.append(
            SearchHit(
                chunk_id=chunk.id,
                document_id=chunk.document_id,
                document_title=chunk.document.title,
                source=chunk.document.source,
                text=chunk.text,
                score=score,
                collection_id=chunk.collection_id,
                position=chunk.position,
                version=chunk.version,
                metadata=chunk.metadata,
                vector_distance=distances.get(chunk_id),
                text_rank=text_ranks.get(chunk_id),
                embedding_model=chunk.embedding_model,
            )
        )
    return hits


# --- drift report ----------------------------------------------------------------------


def logged_queries(*, collection_id: int, limit: int = 50) -> list[str]:
    """Distinct recent queries from the retrieval log that searched this collection."""
    logs = (
        RetrievalLog.objects.filter(
            Q(collection_ids__contains=[collection_id]) | Q(collection_ids__isnull=True)
        )
        .exclude(query="")
        .values("query")
        .annotate(last=Max("created_at"))
        .order_by("-last")[:limit]
    )
    return [row["query"] for row in logs]


def drift_report(
    *, collection_id: int, old_model: str, new_model: str, k: int = 10, max_queries: int = 50
) -> dict[str, Any]:
    """How much the top-k changes from `old_model` to `new_model` on logged queries.

    Both models' chunks must exist (a re-embed job calls this after copying, before the
    switch). New-model chunks are mapped back to the chunk they were copied from, so the
    two top-k lists compare like for like. Per query: overlap@k = |A∩B| / k and Jaccard
    = |A∩B| / |A∪B|; the report holds their means, the minimum and the worst queries.
    """
    queries = logged_queries(collection_id=collection_id, limit=max_queries)
    old_embedder, new_embedder = get_embedder(old_model), get_embedder(new_model)
    old_vectors = old_embedder.embed(queries) if queries else []
    new_vectors = new_embedder.embed(queries) if queries else []
    copied_from = dict(
        Chunk.objects.filter(
            collection_id=collection_id, embedding_model=new_model, retired_at__isnull=True
        ).values_list("id", "reembedded_from_id")
    )
    per_query = []
    for query, old_vector, new_vector in zip(queries, old_vectors, new_vectors, strict=True):
        old_top = {
            chunk_id
            for chunk_id, _d in vector_candidates(
                query_vector=old_vector,
                model_name=old_model,
                collection_ids=[collection_id],
                limit=k,
            )
        }
        new_top = {
            copied_from.get(chunk_id) or chunk_id
            for chunk_id, _d in vector_candidates(
                query_vector=new_vector,
                model_name=new_model,
                collection_ids=[collection_id],
                limit=k,
            )
        }
        shared = len(old_top & new_top)
        union = len(old_top | new_top)
        per_query.append(
            {
                "query": query,
                "overlap_at_k": shared / k,
                "jaccard": shared / union if union else 1.0,
            }
        )
    count = len(per_query)
    return {
        "old_model": old_model,
        "new_model": new_model,
        "k": k,
        "queries": count,
        "mean_overlap_at_k": sum(q["overlap_at_k"] for q in per_query) / count if count else None,
        "mean_jaccard": sum(q["jaccard"] for q in per_query) / count if count else None,
        "min_overlap_at_k": min((q["overlap_at_k"] for q in per_query), default=None),
        "worst": sorted(per_query, key=lambda q: q["overlap_at_k"])[:5],
    }


# --- pages -----------------------------------------------------------------------------


def collection_list() -> QuerySet[Collection]:
    """Collections with their document and active-chunk counts (one query)."""
    return Collection.objects.annotate(
        document_count=Count("documents", distinct=True),
    ).order_by("-is_canonical", "name")


def collection_chunk_counts(collection_ids: list[int]) -> dict[int, int]:
    """Active chunks of each collection's current model (one query)."""
    rows = (
        Chunk.objects.filter(collection_id__in=collection_ids, retired_at__isnull=True)
        .values("collection_id", "embedding_model", "collection__embedding_model")
        .annotate(n=Count("id"))
    )
    counts: dict[int, int] = defaultdict(int)
    for row in rows:
        if row["embedding_model"] == row["collection__embedding_model"]:
            counts[row["collection_id"]] += row["n"]
    return dict(counts)


def document_page(
    *, collection_id: int, after_id: int | None = None, size: int = 25
) -> tuple[list[Document], int | None]:
    """A page of a collection's documents (keyset on id, newest first) and the next cursor."""
    documents = Document.objects.filter(collection_id=collection_id).order_by("-id")
    if after_id is not None:
        documents = documents.filter(id__lt=after_id)
    page = list(documents[: size + 1])
    next_cursor = page[size - 1].id if len(page) > size else None
    return page[:size], next_cursor


def collection_jobs(*, collection_id: int, limit: int = 10) -> dict[str, Any]:
    ingest = list(
        IngestJob.objects.filter(collection_id=collection_id)
        .select_related("document")
        .order_by("-created_at", "-id")[:limit]
    )
    reembed = list(
        ReembedJob.objects.filter(collection_id=collection_id).order_by("-created_at", "-id")[:5]
    )
    active = any(job.status in ACTIVE_JOB_STATUSES for job in [*ingest, *reembed])
    return {"ingest_jobs": ingest, "reembed_jobs": reembed, "jobs_active": active}
