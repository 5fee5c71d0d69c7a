"""Knowledge fixtures: the shipped corpus, collections, and a tiny OpenAI-compatible
embeddings server (its vectors: the local model's, projected to 256 dimensions, so it is
a genuinely different model that still understands the corpus)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from workflows.knowledge import embeddings, services
from workflows.knowledge.models import Collection

CORPUS = Path(__file__).parent / "corpus"
REMOTE_MODEL = "fake-embed-256"


@pytest.fixture(autouse=True)
def _knowledge_settings(settings, tmp_path):
    # Small chunks so each corpus paragraph (and CSV row) is a chunk of its own.
    settings.AIOS_KNOWLEDGE_CHUNK_CHARS = 240
    settings.AIOS_KNOWLEDGE_CHUNK_OVERLAP_CHARS = 60
    settings.AIOS_EMBEDDING_BATCH_SIZE = 16
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(scope="session")
def local_embedder():
    """Loads the local model once for the whole session."""
    embedder = embeddings.get_embedder("all-MiniLM-L6-v2")
    embedder.embed(["warm up"])
    return embedder


@pytest.fixture
def collection(db, local_embedder) -> Collection:
    return services.collection_create(name="Sales", slug="sales", domain="sales")


def ingest_corpus(collection: Collection, names: list[str] | None = None) -> None:
    for path in sorted(CORPUS.iterdir()):
        if names is None or path.name in names:
            services.document_ingest(
                collection_id=collection.id, filename=path.name, content=path.read_bytes()
            )


@pytest.fixture
def ingested(collection: Collection) -> Collection:
    ingest_corpus(collection)
    return collection


class FakeEmbeddingServer:
    def __init__(self) -> None:
        self.requests: list[list[str]] = []
        self.fail_after: int | None = None  # answer 400 from this request on
        self.projection = np.random.default_rng(7).normal(size=(384, 256))
        self.url = ""

    def vectors(self, texts: list[str]) -> list[list[float]]:
        base = np.array(embeddings.get_embedder("all-MiniLM-L6-v2").embed(texts))
        return (base @ self.projection).tolist()


@pytest.fixture(scope="session")
def _embedding_server() -> Iterator[FakeEmbeddingServer]:
    state = FakeEmbeddingServer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            if state.fail_after is not None and len(state.requests) >= state.fail_after:
                self._reply(400, {"error": {"message": "injected failure", "type": "test"}})
                return
            state.requests.append(texts)
            data = [
                {"object": "embedding", "index": i, "embedding": vector}
                for i, vector in enumerate(state.vectors(texts))
            ]
            self._reply(
                200,
                {
                    "object": "list",
                    "data": data,
                    "model": body["model"],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
            )

        def _reply(self, status: int, payload: dict) -> None:
            raw = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    yield state
    server.shutdown()


@pytest.fixture
def embedding_server(_embedding_server, settings, local_embedder) -> FakeEmbeddingServer:
    """The fake server, configured as the OpenAI-compatible embedding endpoint."""
    _embedding_server.requests.clear()
    _embedding_server.fail_after = None
    settings.AIOS_EMBEDDING_BASE_URL = _embedding_server.url
    settings.AIOS_EMBEDDING_EXTRA_MODELS = [REMOTE_MODEL]
    embeddings._remote.clear()
    return _embedding_server
