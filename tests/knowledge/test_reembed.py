from datetime import timedelta

import pytest
from django.utils import timezone

from tests.knowledge.conftest import REMOTE_MODEL
from workflows.knowledge import selectors, services
from workflows.knowledge.exceptions import JobConflict, KnowledgeError
from workflows.knowledge.models import Chunk, Collection, JobStatus


@pytest.fixture
def logged(ingested):
    for query in ["refund after a return", "password reset", "quote validity", "pump price"]:
        selectors.search(query=query, collection_ids=[ingested.id])
    return ingested


def test_reembed_interrupted_then_resumed_completes_and_reports_drift(
    logged, embedding_server, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "REEMBED_BATCH", 8)
    old_count = Chunk.objects.filter(collection=logged, retired_at__isnull=True).count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = services.reembed_job_create(collection_id=logged.id, to_model=REMOTE_MODEL)
    assert len(callbacks) == 1
    # given the embedding server fails after two batches (the worker is interrupted)
    embedding_server.fail_after = 2
    services.reembed_job_run(job_id=job.id)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "injected failure" in job.error
    assert job.cursor_chunk_id > 0
    assert job.progress_done == 16
    # then the collection still serves from the old model
    assert Collection.objects.get(id=logged.id).embedding_model == "all-MiniLM-L6-v2"
    hit = selectors.search(query="reset my password", collection_ids=[logged.id], log=False)[0]
    assert hit.embedding_model == "all-MiniLM-L6-v2"
    # when the job is resumed
    embedding_server.fail_after = None
    services.reembed_job_resume(job_id=job.id)
    services.reembed_job_run(job_id=job.id)
    # then it completes without copying a chunk twice, and the switch happened
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.progress_done == old_count
    new_chunks = Chunk.objects.filter(collection=logged, retired_at__isnull=True)
    assert new_chunks.count() == old_count
    assert {c.embedding_model for c in new_chunks} == {REMOTE_MODEL}
    assert new_chunks.values("reembedded_from").distinct().count() == old_count
    assert Collection.objects.get(id=logged.id).embedding_model == REMOTE_MODEL
    hit = selectors.search(query="reset my password", collection_ids=[logged.id], log=False)[0]
    assert (hit.embedding_model, "Forgot password" in hit.text) == (REMOTE_MODEL, True)
    # and the drift report compared both models on the four logged queries
    report = job.drift_report
    assert report["queries"] == 4
    assert 0.0 < report["mean_overlap_at_k"] <= 1.0
    assert 0.0 < report["mean_jaccard"] <= 1.0
    assert report["min_overlap_at_k"] <= report["mean_overlap_at_k"]


def test_a_job_whose_worker_died_is_claimed_again_and_finishes(logged, embedding_server):
    job = services.reembed_job_create(collection_id=logged.id, to_model=REMOTE_MODEL)
    # given a worker claimed it and died (lease expired)
    type(job).objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )
    # when
    services.reembed_job_run(job_id=job.id)
    # then
    job.refresh_from_db()
    assert job.status == JobStatus.DONE


def test_a_running_job_with_a_live_lease_is_not_run_twice(logged, embedding_server):
    job = services.reembed_job_create(collection_id=logged.id, to_model=REMOTE_MODEL)
    type(job).objects.filter(id=job.id).update(
        status=JobStatus.RUNNING, lease_expires_at=timezone.now() + timedelta(minutes=1)
    )
    assert services.reembed_job_run(job_id=job.id) is None
    assert embedding_server.requests == []


def test_reembed_refuses_the_current_model_and_a_second_job(logged, embedding_server):
    with pytest.raises(KnowledgeError, match="already uses"):
        services.reembed_job_create(collection_id=logged.id, to_model="all-MiniLM-L6-v2")
    services.reembed_job_create(collection_id=logged.id, to_model=REMOTE_MODEL)
    with pytest.raises(JobConflict):
        services.reembed_job_create(collection_id=logged.id, to_model=REMOTE_MODEL)
