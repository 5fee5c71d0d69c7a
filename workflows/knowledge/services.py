"""Knowledge plane writes: collections, ingestion, indexes, ingest and re-embed jobs.

Slow work (parsing, embedding) happens outside transactions; each write is one short
transaction that locks the collection row, so an ingest and a re-embed switch never
interleave. Jobs are rows (status, progress, lease); Celery tasks only carry their ids.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from workflows.knowledge import chunking, parsing
from workflows.knowledge.capabilities import hnsw_available
from workflows.knowledge.embeddings import get_embedder
from workflows.knowledge.exceptions import JobConflict, KnowledgeError
from workflows.knowledge.models import (
    HALFVEC_INDEX_MAX_DIMENSIONS,
    Chunk,
    Collection,
    Document,
    IngestJob,
    JobStatus,
    ReembedJob,
    hnsw_index_for,
)

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int], None]
REEMBED_BATCH = 128


# --- collections -----------------------------------------------------------------------


@transaction.atomic
def collection_create(
    *,
    name: str,
    slug: str,
    domain: str = "",
    description: str = "",
    is_canonical: bool = False,
    embedding_model: str | None = None,
) -> Collection:
    """Create a collection; marking it canonical un-marks the previous canonical one."""
    model_name = embedding_model or str(settings.AIOS_EMBEDDING_MODEL)
    if is_canonical:
        Collection.objects.select_for_update().filter(is_canonical=True).update(
            is_canonical=False, updated_at=timezone.now()
        )
    collection = Collection.objects.create(
        name=name,
        slug=slug,
        domain=domain,
        description=description,
        is_canonical=is_canonical,
        embedding_model=model_name,
    )
    transaction.on_commit(lambda: embedding_index_ensure(model_name=model_name))
    return collection


# --- indexes ---------------------------------------------------------------------------


def embedding_index_name(*, model_name: str, dimensions: int) -> str:
    digest = hashlib.sha1(model_name.encode()).hexdigest()[:10]
    return f"kn_hnsw_{digest}_{dimensions}"


def embedding_index_ensure(*, model_name: str, dimensions: int | None = None) -> str | None:
    """Create the HNSW partial index for `model_name` unless it exists; returns its name.

    The index is partial on `embedding_model = model_name AND retired_at IS NULL`:
    building it while the model has no rows yet is instant, and later inserts maintain
    it. None (and no index: search scans exactly) where the server's pgvector cannot run
    HNSW (`capabilities.hnsw_available`).
    """
    if not hnsw_available():
        return None
    dims = dimensions or get_embedder(model_name).dimensions
    if dims > HALFVEC_INDEX_MAX_DIMENSIONS:
        raise KnowledgeError(f"{model_name}: {dims} dimensions is above pgvector's HNSW limit")
    name = embedding_index_name(model_name=model_name, dimensions=dims)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = %s", [name])
        if cursor.fetchone():
            return name
    index = hnsw_index_for(model_name=model_name, dimensions=dims, name=name)
    try:
        with connection.schema_editor(atomic=True) as editor:
            editor.add_index(Chunk, index)
    except IntegrityError:  # a concurrent caller created it first
        pass
    return name


# --- ingestion -------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    document: Document
    outcome: str  # "created" | "new_version" | "unchanged"
    chunk_count: int


def document_ingest(
    *,
    collection_id: int,
    filename: str,
    content: bytes,
    title: str | None = None,
    source: str | None = None,
    metadata: dict[str, Any] | None = None,
    on_progress: ProgressCallback | None = None,
) -> IngestResult:
    """Parse, chunk, embed and store one file as a document of a collection.

    Same bytes as the current version: nothing changes ("unchanged"). Changed bytes: a
    new version whose chunks replace (retire) the previous version's. Refused files raise
    IngestError and store nothing. Embedding happens before the one short write
    transaction; `on_progress(done, total)` is called as batches of chunks are embedded.
    """
    max_bytes = int(settings.AIOS_KNOWLEDGE_MAX_UPLOAD_BYTES)
    parsing.check_size(filename, len(content), max_bytes=max_bytes)
    content_type, text = parsing.extract_text(filename, content)
    checksum = hashlib.sha256(content).hexdigest()
    source = source or PurePath(filename).name
    collection = Collection.objects.get(id=collection_id)

    existing = Document.objects.filter(collection_id=collection_id, source=source).first()
    if existing is not None and existing.checksum == checksum:
        return IngestResult(existing, "unchanged", _active_chunk_count(existing))

    texts = chunking.chunk_text(
        text,
        max_chars=int(settings.AIOS_KNOWLEDGE_CHUNK_CHARS),
        overlap_chars=int(settings.AIOS_KNOWLEDGE_CHUNK_OVERLAP_CHARS),
    )
    for _attempt in range(3):
        model_name = collection.embedding_model
        vectors = _embed_with_progress(model_name, texts, on_progress)
        embedding_index_ensure(model_name=model_name, dimensions=len(vectors[0]))
        result = _document_write(
            collection_id=collection_id,
            model_name=model_name,
            source=source,
            title=title or _default_title(filename),
            content_type=content_type,
            checksum=checksum,
            size_bytes=len(content),
            metadata=metadata or {},
            texts=texts,
            vectors=vectors,
        )
        if result is not None:
            return result
        # A re-embed job switched the collection's model while we embedded: once more.
        collection.refresh_from_db(fields=["embedding_model"])
    raise KnowledgeError("the collection's embedding model kept changing; try again")


def _default_title(filename: str) -> str:
    return PurePath(filename).stem.replace("_", " ").replace("-", " ").strip() or filename


def _active_chunk_count(document: Document) -> int:
    return Chunk.objects.filter(
        document=document,
        retired_at__isnull=True,
        embedding_model=document.collection.embedding_model,
    ).count()


def _embed_with_progress(
    model_name: str, texts: list[str], on_progress: ProgressCallback | None
) -> list[list[float]]:
    embedder = get_embedder(model_name)
    batch = max(1, int(settings.AIOS_EMBEDDING_BATCH_SIZE))
    vectors: list[list[float]] = []
    for start in range(0, len(texts), batch):
        vectors.extend(embedder.embed(texts[start : start + batch]))
        if on_progress is not None:
            on_progress(len(vectors), len(texts))
    return vectors


@transaction.atomic
def _document_write(
    *,
    collection_id: int,
    model_name: str,
    source: str,
    title: str,
    content_type: str,
    checksum: str,
    size_bytes: int,
    metadata: dict[str, Any],
    texts: list[str],
    vectors: list[list[float]],
) -> IngestResult | None:
    """The one write of an ingest; None when the collection's model changed meanwhile."""
    collection = Collection.objects.select_for_update().get(id=collection_id)
    if collection.embedding_model != model_name:
        return None
    now = timezone.now()
    document = (
        Document.objects.select_for_update()
        .filter(collection_id=collection_id, source=source)
        .first()
    )
    if document is not None and document.checksum == checksum:
        return IngestResult(document, "unchanged", _active_chunk_count(document))
    if document is None:
        outcome = "created"
        document = Document.objects.create(
            collection=collection,
            source=source,
            title=title,
            content_type=content_type,
            checksum=checksum,
            version=1,
            size_bytes=size_bytes,
            metadata=metadata,
        )
    else:
        outcome = "new_version"
        # Every model's chunks of the old version go, copies made by a running re-embed too.
        Chunk.objects.filter(document=document, retired_at__isnull=True).update(retired_at=now)
        document.version += 1
        document.title = title
        document.content_type = content_type
        document.checksum = checksum
        document.size_bytes = size_bytes
        document.metadata = metadata
        document.save(
            update_fields=[
                "version",
                "title",
                "content_type",
                "checksum",
                "size_bytes",
                "metadata",
                "updated_at",
            ]
        )
    chunk_metadata = {**metadata, "content_type": content_type}
    Chunk.objects.bulk_create(
        [
            Chunk(
                document=document,
                collection=collection,
                version=document.version,
                position=position,
                text=text,
                metadata=chunk_metadata,
                embedding_model=model_name,
                embedding=vector,
            )
            for position, (text, vector) in enumerate(zip(texts, vectors, strict=True))
        ],
        batch_size=500,
    )
    return IngestResult(document, outcome, len(texts))


# --- ingest jobs (UI / admin uploads) --------------------------------------------------


@transaction.atomic
def ingest_job_create(
    *,
    collection_id: int,
    upload: UploadedFile,
    title: str = "",
    created_by: AbstractBaseUser | None = None,
) -> IngestJob:
    """Store an uploaded file and queue its ingestion (a Celery job, sent after commit).

    Type and size are checked now, so an obviously bad file is refused at once; the
    content is checked by the job (and a refusal shows as the job's error).
    """
    filename = PurePath(upload.name or "upload").name
    parsing.content_type_for(filename)
    parsing.check_size(
        filename, upload.size or 0, max_bytes=int(settings.AIOS_KNOWLEDGE_MAX_UPLOAD_BYTES)
    )
    collection = Collection.objects.get(id=collection_id)
    job = IngestJob(collection=collection, filename=filename, title=title, created_by=created_by)
    job.upload.save(filename, upload, save=False)
    job.save()
    transaction.on_commit(lambda: _enqueue("ingest_job_run_task", job.id))
    return job


def ingest_job_run(*, job_id: int) -> IngestJob | None:
    """Run a queued ingest job (or one whose worker died); None if someone else has it."""
    if not _claim(IngestJob, job_id):
        return None
    job = IngestJob.objects.select_related("collection").get(id=job_id)

    def progress(done: int, total: int) -> None:
        IngestJob.objects.filter(id=job_id).update(
            progress_done=done,
            progress_total=total,
            lease_expires_at=_lease_until(),
            updated_at=timezone.now(),
        )

    try:
        with job.upload.open("rb") as handle:
            content = handle.read()
        result = document_ingest(
            collection_id=job.collection_id,
            filename=job.filename,
            content=content,
            title=job.title or None,
            on_progress=progress,
        )
    except KnowledgeError as exc:
        _finish(job, status=JobStatus.FAILED, error=str(exc))
    except FileNotFoundError:
        _finish(job, status=JobStatus.FAILED, error="the uploaded file is gone; upload it again")
    except Exception as exc:
        logger.exception("ingest job %s failed", job_id)
        _finish(job, status=JobStatus.FAILED, error=f"internal error: {type(exc).__name__}")
        raise
    else:
        job.document = result.document
        job.outcome = result.outcome
        job.progress_done = job.progress_total = max(result.chunk_count, job.progress_total)
        _finish(job, status=JobStatus.DONE)
    return job


def _finish(job: IngestJob, *, status: str, error: str = "") -> None:
    if job.upload:  # the bytes live on as the document's chunks; keep no copy
        job.upload.delete(save=False)
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    job.lease_expires_at = None
    job.save(
        update_fields=[
            "upload",
            "status",
            "error",
            "finished_at",
            "lease_expires_at",
            "document",
            "outcome",
            "progress_done",
            "progress_total",
            "updated_at",
        ]
    )


# --- re-embedding ----------------------------------------------------------------------


@transaction.atomic
def reembed_job_create(
    *, collection_id: int, to_model: str, created_by: AbstractBaseUser | None = None
) -> ReembedJob:
    """Queue moving a collection to `to_model`. Search keeps using the current model until
    the job completes. Refused when the model is the current one or unknown, or when
    another re-embed of the collection is still running (JobConflict)."""
    collection = Collection.objects.select_for_update().get(id=collection_id)
    if to_model == collection.embedding_model:
        raise KnowledgeError(f"the collection already uses {to_model}")
    get_embedder(to_model)  # unknown / unconfigured models fail here, not in the worker
    total = Chunk.objects.filter(
        collection=collection,
        embedding_model=collection.embedding_model,
        retired_at__isnull=True,
    ).count()
    try:
        with transaction.atomic():
            job = ReembedJob.objects.create(
                collection=collection,
                from_model=collection.embedding_model,
                to_model=to_model,
                progress_total=total,
                created_by=created_by,
            )
    except IntegrityError:
        raise JobConflict("a re-embed of this collection is already running") from None
    transaction.on_commit(lambda: _enqueue("reembed_job_run_task", job.id))
    return job


def reembed_job_resume(*, job_id: int) -> ReembedJob:
    """Re-queue a failed re-embed job; it continues after its cursor."""
    updated = ReembedJob.objects.filter(id=job_id, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, error="", updated_at=timezone.now()
    )
    if not updated:
        raise KnowledgeError("only a failed re-embed job can be resumed")
    transaction.on_commit(lambda: _enqueue("reembed_job_run_task", job_id))
    return ReembedJob.objects.get(id=job_id)


def reembed_job_run(*, job_id: int) -> ReembedJob | None:
    """Copy every active chunk of the collection for the new model, then switch.

    Resumable: each batch's copies and the cursor commit together, so a run that dies
    (worker killed, embedding server down) resumes after the last committed batch. After
    the copy, a drift report is computed; then, in one transaction, the collection's
    model flips and the old model's chunks are retired. None if another worker has it.
    """
    if not _claim(ReembedJob, job_id):
        return None
    job = ReembedJob.objects.get(id=job_id)
    try:
        embedder = get_embedder(job.to_model)
        embedding_index_ensure(model_name=job.to_model)
        while True:
            while _reembed_batch(job, embedder):
                pass
            if job.drift_report is None:
                from workflows.knowledge.selectors import drift_report

                job.drift_report = drift_report(
                    collection_id=job.collection_id,
                    old_model=job.from_model,
                    new_model=job.to_model,
                )
                job.save(update_fields=["drift_report", "updated_at"])
            if _reembed_switch(job):
                return job
    except KnowledgeError as exc:
        _reembed_fail(job, str(exc))
    except Exception as exc:
        logger.exception("re-embed job %s failed", job_id)
        _reembed_fail(job, f"internal error: {type(exc).__name__}: {exc}")
        raise
    return job


def _reembed_pending(job: ReembedJob) -> Any:
    return Chunk.objects.filter(
        collection_id=job.collection_id,
        embedding_model=job.from_model,
        retired_at__isnull=True,
        id__gt=job.cursor_chunk_id,
    ).order_by("id")


def _reembed_batch(job: ReembedJob, embedder: Any) -> bool:
    """Embed and store one batch; False when nothing is left."""
    batch = list(_reembed_pending(job).values_list("id", "text")[:REEMBED_BATCH])
    if not batch:
        return False
    vectors = embedder.embed([text for _id, text in batch])  # outside any transaction
    by_id = dict(zip((chunk_id for chunk_id, _text in batch), vectors, strict=True))
    with transaction.atomic():
        Collection.objects.select_for_update().get(id=job.collection_id)  # vs. ingest
        sources = Chunk.objects.filter(id__in=by_id, retired_at__isnull=True)  # still live
        Chunk.objects.bulk_create(
            [
                Chunk(
                    document_id=source.document_id,
                    collection_id=source.collection_id,
                    version=source.version,
                    position=source.position,
                    text=source.text,
                    metadata=source.metadata,
                    embedding_model=job.to_model,
                    embedding=by_id[source.id],
                    reembedded_from_id=source.id,
                )
                for source in sources
            ]
        )
        job.cursor_chunk_id = max(by_id)
        job.progress_done += len(batch)
        job.progress_total = max(job.progress_total, job.progress_done)
        job.lease_expires_at = _lease_until()
        job.save(
            update_fields=[
                "cursor_chunk_id",
                "progress_done",
                "progress_total",
                "lease_expires_at",
                "updated_at",
            ]
        )
    return True


@transaction.atomic
def _reembed_switch(job: ReembedJob) -> bool:
    """Flip the collection to the new model; False if chunks arrived meanwhile."""
    collection = Collection.objects.select_for_update().get(id=job.collection_id)
    if _reembed_pending(job).exists():
        return False  # an ingest committed more old-model chunks: copy them first
    now = timezone.now()
    collection.embedding_model = job.to_model
    collection.save(update_fields=["embedding_model", "updated_at"])
    Chunk.objects.filter(
        collection=collection, embedding_model=job.from_model, retired_at__isnull=True
    ).update(retired_at=now)
    job.status = JobStatus.DONE
    job.finished_at = now
    job.lease_expires_at = None
    job.save(update_fields=["status", "finished_at", "lease_expires_at", "updated_at"])
    return True


def _reembed_fail(job: ReembedJob, error: str) -> None:
    job.status = JobStatus.FAILED
    job.error = error
    job.lease_expires_at = None
    job.save(update_fields=["status", "error", "lease_expires_at", "updated_at"])


# --- job plumbing ----------------------------------------------------------------------


def _lease_until() -> Any:
    return timezone.now() + timedelta(seconds=int(settings.AIOS_KNOWLEDGE_JOB_LEASE_SECONDS))


def _claim(model: type[IngestJob] | type[ReembedJob], job_id: int) -> bool:
    """Conditional UPDATE: a queued job, or a running one whose lease ran out (its worker
    died). Zero rows changed means another worker has it, or it is finished."""
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    return bool(
        model.objects.filter(claimable, id=job_id).update(
            status=JobStatus.RUNNING, lease_expires_at=_lease_until(), updated_at=now
        )
    )


def stale_jobs_resume(*, queued_grace_seconds: int = 60) -> int:
    """Re-send jobs whose worker died (lease expired) or whose message was lost."""
    now = timezone.now()
    stale = Q(status=JobStatus.RUNNING, lease_expires_at__lt=now) | Q(
        status=JobStatus.QUEUED, updated_at__lt=now - timedelta(seconds=queued_grace_seconds)
    )
    count = 0
    for task_name, model in (
        ("ingest_job_run_task", IngestJob),
        ("reembed_job_run_task", ReembedJob),
    ):
        for job_id in model.objects.filter(stale).values_list("id", flat=True):
            _enqueue(task_name, job_id)
            count += 1
    return count


def _enqueue(task_name: str, job_id: int) -> None:
    from workflows.knowledge import tasks

    getattr(tasks, task_name).delay(job_id)
