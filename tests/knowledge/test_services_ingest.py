import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from tests.knowledge.conftest import CORPUS
from workflows.knowledge import services
from workflows.knowledge.exceptions import IngestError
from workflows.knowledge.models import Chunk, Document, IngestJob, JobStatus


@pytest.mark.parametrize(
    ("filename", "content_type", "expected_text"),
    [
        ("support_faq.txt", "txt", "Forgot password"),
        ("pricing_rules.md", "md", "approved by a sales manager"),
        ("returns_policy.html", "html", "returned within 14 days"),
        ("contract_clauses.pdf", "pdf", "total liability"),
        ("product_catalog.csv", "csv", "sku: AX-4417"),
    ],
)
def test_ingest_stores_chunks_with_embeddings_for_each_file_type(
    collection, filename, content_type, expected_text
):
    # when
    result = services.document_ingest(
        collection_id=collection.id, filename=filename, content=(CORPUS / filename).read_bytes()
    )
    # then
    assert result.outcome == "created"
    document = Document.objects.get()
    assert (document.content_type, document.version, document.source) == (content_type, 1, filename)
    chunks = list(Chunk.objects.filter(document=document).order_by("position"))
    assert len(chunks) == result.chunk_count >= 1
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert any(expected_text in c.text for c in chunks)
    assert {c.embedding_model for c in chunks} == {"all-MiniLM-L6-v2"}
    assert all(len(c.embedding) == 384 for c in chunks)
    assert "do not index" not in " ".join(c.text for c in chunks)  # <script> dropped


def test_reuploading_the_same_file_changes_nothing(collection):
    content = (CORPUS / "pricing_rules.md").read_bytes()
    services.document_ingest(collection_id=collection.id, filename="p.md", content=content)
    chunk_ids = set(Chunk.objects.values_list("id", flat=True))
    # when
    result = services.document_ingest(collection_id=collection.id, filename="p.md", content=content)
    # then
    assert result.outcome == "unchanged"
    assert set(Chunk.objects.values_list("id", flat=True)) == chunk_ids
    assert Document.objects.get().version == 1


def test_a_changed_file_is_a_new_version_that_retires_old_chunks(collection):
    services.document_ingest(collection_id=collection.id, filename="f.txt", content=b"Old text.")
    old_ids = set(Chunk.objects.values_list("id", flat=True))
    # when
    result = services.document_ingest(
        collection_id=collection.id, filename="f.txt", content=b"New text.\n\nSecond part."
    )
    # then
    assert result.outcome == "new_version"
    assert result.document.version == 2
    assert Chunk.objects.filter(id__in=old_ids, retired_at__isnull=False).count() == len(old_ids)
    active = Chunk.objects.filter(retired_at__isnull=True)
    assert {c.version for c in active} == {2}
    assert "New text." in active.order_by("position").first().text


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "corrupt"),
        ("fake.pdf", b"just text pretending", "not a PDF"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"   \n\n  \n", "no text"),
        ("tool.exe", b"MZ\x90\x00", "unsupported file type"),
        ("report.docx", b"PK\x03\x04", "unsupported file type"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("header_only.csv", b"sku,price\n", "no data rows"),
    ],
)
def test_bad_files_are_refused_and_nothing_is_stored(collection, filename, content, message):
    with pytest.raises(IngestError, match=message):
        services.document_ingest(collection_id=collection.id, filename=filename, content=content)
    assert Document.objects.count() == 0
    assert Chunk.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(collection, settings):
    settings.AIOS_KNOWLEDGE_MAX_UPLOAD_BYTES = 100
    with pytest.raises(IngestError, match="too large"):
        services.document_ingest(
            collection_id=collection.id, filename="big.txt", content=b"x" * 101
        )
    assert Document.objects.count() == 0


def test_upload_stores_the_file_and_enqueues_the_job_after_commit(
    collection, workflow_admin, django_capture_on_commit_callbacks
):
    upload = SimpleUploadedFile("faq.txt", (CORPUS / "support_faq.txt").read_bytes())
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.ingest_job_create(
            collection_id=collection.id, upload=upload, created_by=workflow_admin
        )
    # then a job is queued, its send waits for the commit, and nothing is ingested yet
    assert job.status == JobStatus.QUEUED
    assert len(callbacks) == 1
    assert Document.objects.count() == 0
    # and when the worker runs it (the task body, synchronously)
    from workflows.knowledge.tasks import ingest_job_run_task

    ingest_job_run_task.run(job.id)
    job.refresh_from_db()
    assert (job.status, job.outcome, job.error) == (JobStatus.DONE, "created", "")
    assert job.progress_done == job.progress_total == job.document.chunks.count()
    assert not job.upload  # the stored upload is removed once ingested


def test_a_job_with_a_bad_file_fails_with_a_clear_error_and_stores_nothing(collection):
    upload = SimpleUploadedFile("broken.pdf", b"%PDF-1.7 not really")
    job = services.ingest_job_create(collection_id=collection.id, upload=upload)
    # when
    services.ingest_job_run(job_id=job.id)
    # then
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "broken.pdf: the PDF is corrupt" in job.error
    assert Document.objects.count() == 0


def test_running_a_finished_job_again_does_nothing(collection):
    job = services.ingest_job_create(
        collection_id=collection.id, upload=SimpleUploadedFile("a.txt", b"Some text.")
    )
    services.ingest_job_run(job_id=job.id)
    # when the message is delivered a second time
    assert services.ingest_job_run(job_id=job.id) is None
    # then
    assert Document.objects.get().version == 1
    assert IngestJob.objects.get().status == JobStatus.DONE


def test_upload_of_a_wrong_type_is_refused_at_once(collection):
    with pytest.raises(IngestError, match="unsupported"):
        services.ingest_job_create(
            collection_id=collection.id, upload=SimpleUploadedFile("x.exe", b"MZ")
        )
    assert IngestJob.objects.count() == 0


def test_management_command_ingests_a_folder(collection, capsys):
    # when
    call_command("ingest_documents", str(CORPUS), collection="sales")
    # then
    assert Document.objects.filter(collection=collection).count() == 5
    assert capsys.readouterr().out.count("created") == 5
