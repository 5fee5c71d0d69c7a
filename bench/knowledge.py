"""Knowledge plane benchmark: top-10 vector search over N chunks, recall@10 against exact
search in the same run, HNSW index build time, and local embedding throughput on CPU.

    .venv/bin/python bench/knowledge.py            # 100 000 chunks (the budget's scale)
    .venv/bin/python bench/knowledge.py --quick    # 10 000 chunks, fewer texts embedded

Chunks get random but clustered 384-dimension vectors (embedding 100 k real texts would
take minutes); throughput is measured on real texts with the local model. Data lives under
AIOS_DATA_DIR (default `.data/bench`). The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")
os.environ.setdefault("AIOS_DATA_DIR", str(ROOT / ".data" / "bench"))

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from workflows.knowledge import selectors, services  # noqa: E402
from workflows.knowledge.capabilities import hnsw_available  # noqa: E402
from workflows.knowledge.embeddings import get_embedder  # noqa: E402
from workflows.knowledge.models import Collection, Document  # noqa: E402

MODEL = "bench-random-384"
DIMS = 384


def _vectors(rng: np.random.Generator, n: int, centers: np.ndarray) -> np.ndarray:
    picks = rng.integers(0, len(centers), size=n)
    vectors = centers[picks] + rng.normal(scale=0.35, size=(n, DIMS))
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def load_chunks(n: int, rng: np.random.Generator, centers: np.ndarray) -> int:
    Collection.objects.filter(slug="bench").delete()
    collection = Collection.objects.create(name="Bench", slug="bench", embedding_model=MODEL)
    document = Document.objects.create(
        collection=collection, source="bench", title="bench", content_type="txt", checksum="-"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname = %s",
            [services.embedding_index_name(model_name=MODEL, dimensions=DIMS)],
        )
        for (name,) in cursor.fetchall():  # build it after the load, and time it
            cursor.execute(f'DROP INDEX "{name}"')
    batch = 5000
    with connection.cursor() as cursor:
        for start in range(0, n, batch):
            vectors = _vectors(rng, min(batch, n - start), centers)
            with cursor.copy(
                "COPY knowledge_chunk (document_id, collection_id, version, position, text,"
                " metadata, embedding_model, embedding, created_at) FROM STDIN"
            ) as copy:
                for i, vector in enumerate(vectors):
                    position = start + i
                    text = f"bench chunk {position} topic {position % 97}"
                    literal = "[" + ",".join(f"{x:.5f}" for x in vector) + "]"
                    copy.write_row(
                        (document.id, collection.id, 1, position, text, "{}", MODEL, literal, "now")
                    )
        cursor.execute("ANALYZE knowledge_chunk")
    return collection.id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="10 000 chunks instead of 100 000")
    parser.add_argument("--chunks", type=int, default=None)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-texts", type=int, default=None)
    args = parser.parse_args()
    n = args.chunks or (10_000 if args.quick else 100_000)
    embed_n = args.embed_texts or (500 if args.quick else 2000)
    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(42)
    centers = rng.normal(size=(200, DIMS))

    started = time.perf_counter()
    collection_id = load_chunks(n, rng, centers)
    load_s = time.perf_counter() - started
    print(f"loaded {n} chunks in {load_s:.1f}s")

    hnsw = hnsw_available()
    index_build_s = None
    if hnsw:
        started = time.perf_counter()
        services.embedding_index_ensure(model_name=MODEL, dimensions=DIMS)
        index_build_s = time.perf_counter() - started
        print(f"HNSW index built in {index_build_s:.1f}s")
    else:
        print("HNSW unavailable on this server (pgvector built for AVX-512): exact scans only")

    queries = _vectors(rng, args.queries, centers).tolist()
    kwargs = {"model_name": MODEL, "collection_ids": [collection_id], "limit": 10}
    for vector in queries[:10]:  # warm the cache
        selectors.vector_candidates(query_vector=vector, **kwargs)
    latencies, exact_latencies, recalls = [], [], []
    for vector in queries:
        started = time.perf_counter()
        approx = selectors.vector_candidates(query_vector=vector, **kwargs)
        latencies.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        exact = selectors.vector_candidates(query_vector=vector, exact=True, **kwargs)
        exact_latencies.append((time.perf_counter() - started) * 1000)
        truth = {chunk_id for chunk_id, _d in exact}
        recalls.append(len(truth & {chunk_id for chunk_id, _d in approx}) / len(truth))
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"top-10 search: P50 {statistics.median(latencies):.2f} ms, P95 {quantiles[94]:.2f} ms;"
        f" exact scan P50 {statistics.median(exact_latencies):.2f} ms;"
        f" recall@10 {statistics.mean(recalls):.4f}"
    )

    texts = [
        f"Customer {i} asks about invoice {i * 7} and delivery of {i % 13} pumps to site {i % 5}."
        for i in range(embed_n)
    ]
    embedder = get_embedder("all-MiniLM-L6-v2")
    embedder.embed(texts[:16])  # load the model outside the timing
    started = time.perf_counter()
    for start in range(0, len(texts), 64):
        embedder.embed(texts[start : start + 64])
    embed_rate = len(texts) / (time.perf_counter() - started)
    print(f"embedding: {embed_rate:.0f} chunks/s on CPU ({os.cpu_count()} cores)")

    Collection.objects.filter(id=collection_id).delete()
    result = {
        "chunks": n,
        "search_ms_p50": round(statistics.median(latencies), 3),
        "search_ms_p95": round(quantiles[94], 3),
        "recall_at_10": round(statistics.mean(recalls), 4),
        "index_build_s": round(index_build_s, 2) if index_build_s is not None else None,
        "embed_chunks_per_s": round(embed_rate, 1),
        "exact_ms_p50": round(statistics.median(exact_latencies), 3),
        "hnsw": hnsw,
        "queries": len(queries),
        "load_s": round(load_s, 1),
        "cpu": platform.processor() or platform.machine(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
