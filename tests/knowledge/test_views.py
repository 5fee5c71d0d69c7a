import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from workflows.knowledge import services
from workflows.knowledge.models import Collection, IngestJob, ReembedJob


def _urls(collection_id):
    return {
        "get": [
            reverse("knowledge:collection-list"),
            reverse("knowledge:search"),
            reverse("knowledge:collection-detail", args=[collection_id]),
            reverse("knowledge:collection-jobs", args=[collection_id]),
        ],
        "post": [
            reverse("knowledge:collection-create"),
            reverse("knowledge:document-upload", args=[collection_id]),
            reverse("knowledge:collection-reembed", args=[collection_id]),
            reverse("knowledge:reembed-resume", args=[collection_id, 1]),
        ],
    }


def test_anonymous_is_sent_to_login_from_every_view(client, collection):
    urls = _urls(collection.id)
    for url in urls["get"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], url
    for url in urls["post"]:
        response = client.post(url)
        assert response.status_code == 302, url
        assert "/login/" in response["Location"], url


def test_a_reviewer_gets_403_from_every_view(client, collection, reviewer):
    client.force_login(reviewer)
    urls = _urls(collection.id)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url).status_code == 403, url


def test_a_workflow_admin_reaches_every_page(client, collection, workflow_admin):
    client.force_login(workflow_admin)
    for url in _urls(collection.id)["get"]:
        assert client.get(url).status_code == 200, url


def test_post_only_views_refuse_get(client, collection, workflow_admin):
    client.force_login(workflow_admin)
    assert client.get(reverse("knowledge:document-upload", args=[collection.id])).status_code == 405


def test_admin_creates_a_collection(client, workflow_admin, local_embedder):
    client.force_login(workflow_admin)
    response = client.post(
        reverse("knowledge:collection-create"), {"name": "Finance", "slug": "finance"}
    )
    collection = Collection.objects.get(slug="finance")
    assert response.status_code == 302
    assert response["Location"] == reverse("knowledge:collection-detail", args=[collection.id])


def test_upload_queues_a_job_shown_with_polling(
    client, collection, workflow_admin, django_capture_on_commit_callbacks
):
    client.force_login(workflow_admin)
    url = reverse("knowledge:document-upload", args=[collection.id])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(url, {"file": SimpleUploadedFile("a.txt", b"Hello knowledge.")})
    assert response.status_code == 302
    assert len(callbacks) == 1
    assert IngestJob.objects.get().filename == "a.txt"
    # the jobs fragment polls every second while the job is queued
    fragment = client.get(reverse("knowledge:collection-jobs", args=[collection.id]))
    assert 'hx-trigger="every 1s"' in fragment.content.decode()
    assert "<html" not in fragment.content.decode()


def test_upload_of_a_wrong_type_shows_the_error(client, collection, workflow_admin):
    client.force_login(workflow_admin)
    url = reverse("knowledge:document-upload", args=[collection.id])
    response = client.post(url, {"file": SimpleUploadedFile("x.exe", b"MZ")})
    assert response.status_code == 422
    assert "unsupported file type .exe" in response.content.decode()
    assert IngestJob.objects.count() == 0


def test_reembed_form_starts_a_job(client, collection, workflow_admin, embedding_server):
    client.force_login(workflow_admin)
    url = reverse("knowledge:collection-reembed", args=[collection.id])
    response = client.post(url, {"to_model": "fake-embed-256"})
    assert response.status_code == 302
    assert ReembedJob.objects.get().to_model == "fake-embed-256"


def test_search_page_shows_scored_results_and_escapes_chunk_text(
    client, collection, workflow_admin
):
    services.document_ingest(
        collection_id=collection.id,
        filename="x.txt",
        content=b"Refund rule <script>alert(1)</script> applies within 14 days.",
    )
    client.force_login(workflow_admin)
    response = client.get(reverse("knowledge:search"), {"q": "refund rule", "k": 5})
    html = response.content.decode()
    assert response.status_code == 200
    assert "x.txt" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_search_page_rejects_bad_metadata_json(client, workflow_admin, db):
    client.force_login(workflow_admin)
    response = client.get(reverse("knowledge:search"), {"q": "x", "metadata": "{bad"})
    assert "Not valid JSON" in response.content.decode()


@pytest.mark.parametrize("count", [2, 6])
def test_collection_list_query_count_does_not_grow_with_collections(
    client, workflow_admin, django_assert_max_num_queries, count
):
    for i in range(count):
        Collection.objects.create(name=f"C{i}", slug=f"c{i}")
    client.force_login(workflow_admin)
    with django_assert_max_num_queries(6):
        assert client.get(reverse("knowledge:collection-list")).status_code == 200


@pytest.mark.parametrize("count", [2, 30])
def test_collection_page_query_count_does_not_grow_with_documents(
    client, collection, workflow_admin, django_assert_max_num_queries, count
):
    for i in range(count):
        collection.documents.create(source=f"s{i}", title=f"T{i}", content_type="txt", checksum="x")
    client.force_login(workflow_admin)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("knowledge:collection-detail", args=[collection.id]))
    assert response.status_code == 200
    assert ("Older documents" in response.content.decode()) == (count > 25)
