"""Knowledge pages for workflow admins: collections, uploads, re-embedding, search."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from aios_app import roles
from workflows.knowledge import selectors, services
from workflows.knowledge.exceptions import KnowledgeError
from workflows.knowledge.forms import CollectionForm, ReembedForm, SearchForm, UploadForm
from workflows.knowledge.models import Collection

admin_only = roles.role_required(roles.ADMIN_WORKFLOWS)


@require_GET
@admin_only
def collection_list(request: HttpRequest) -> HttpResponse:
    collections = list(selectors.collection_list())
    counts = selectors.collection_chunk_counts([c.id for c in collections])
    for collection in collections:
        collection.chunk_count = counts.get(collection.id, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "knowledge/collection_list.html",
        {"collections": collections, "form": CollectionForm()},
    )


@require_POST
@admin_only
def collection_create(request: HttpRequest) -> HttpResponse:
    form = CollectionForm(request.POST)
    if not form.is_valid():
        collections = selectors.collection_list()
        context = {"collections": collections, "form": form}
        return render(request, "knowledge/collection_list.html", context, status=422)
    collection = services.collection_create(**form.cleaned_data)
    messages.success(request, f"Collection “{collection.name}” created.")
    return redirect("knowledge:collection-detail", collection_id=collection.id)


def _detail_context(request: HttpRequest, collection: Collection) -> dict[str, object]:
    after = request.GET.get("after")
    documents, next_cursor = selectors.document_page(
        collection_id=collection.id, after_id=int(after) if after and after.isdigit() else None
    )
    return {
        "collection": collection,
        "documents": documents,
        "next_cursor": next_cursor,
        "upload_form": UploadForm(),
        "reembed_form": ReembedForm(initial={"to_model": collection.embedding_model}),
        **selectors.collection_jobs(collection_id=collection.id),
    }


@require_GET
@admin_only
def collection_detail(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(Collection, id=collection_id)
    return render(request, "knowledge/collection_detail.html", _detail_context(request, collection))


@require_GET
@admin_only
def collection_jobs(request: HttpRequest, collection_id: int) -> HttpResponse:
    """The jobs fragment; htmx polls it every second while a job runs."""
    collection = get_object_or_404(Collection, id=collection_id)
    context = {"collection": collection, **selectors.collection_jobs(collection_id=collection.id)}
    return render(request, "knowledge/collection_detail.html#collection-jobs", context)


@require_POST
@admin_only
def document_upload(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(Collection, id=collection_id)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.ingest_job_create(
                collection_id=collection.id,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except KnowledgeError as exc:
            form.add_error("file", str(exc))
    if not form.is_valid():
        context = {**_detail_context(request, collection), "upload_form": form}
        return render(request, "knowledge/collection_detail.html", context, status=422)
    messages.success(request, "File uploaded; ingestion is running.")
    return redirect("knowledge:collection-detail", collection_id=collection.id)


@require_POST
@admin_only
def collection_reembed(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(Collection, id=collection_id)
    form = ReembedForm(request.POST)
    if form.is_valid():
        try:
            services.reembed_job_create(
                collection_id=collection.id,
                to_model=form.cleaned_data["to_model"],
                created_by=request.user,  # type: ignore[arg-type]
            )
        except KnowledgeError as exc:
            form.add_error("to_model", str(exc))
    if not form.is_valid():
        context = {**_detail_context(request, collection), "reembed_form": form}
        return render(request, "knowledge/collection_detail.html", context, status=422)
    messages.success(request, "Re-embedding started; search keeps the old model until it ends.")
    return redirect("knowledge:collection-detail", collection_id=collection.id)


@require_POST
@admin_only
def reembed_resume(request: HttpRequest, collection_id: int, job_id: int) -> HttpResponse:
    collection = get_object_or_404(Collection, id=collection_id)
    get_object_or_404(collection.reembed_jobs, id=job_id)
    try:
        services.reembed_job_resume(job_id=job_id)
    except KnowledgeError as exc:
        messages.error(request, str(exc))
    return redirect("knowledge:collection-detail", collection_id=collection.id)


@require_GET
@admin_only
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    hits = None
    if form.is_valid():
        collection = form.cleaned_data["collection"]
        hits = selectors.search(
            query=form.cleaned_data["q"],
            collection_ids=[collection.id] if collection else None,
            metadata=form.cleaned_data["metadata"],
            k=form.cleaned_data["k"] or 10,
            mode=form.cleaned_data["mode"] or "hybrid",
            step="admin-search",
        )
    return render(request, "knowledge/search.html", {"form": form, "hits": hits})
