from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from workflows.knowledge import services
from workflows.knowledge.models import (
    Chunk,
    Collection,
    Document,
    IngestJob,
    ReembedJob,
    RetrievalLog,
)


@admin.register(Collection)
class CollectionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "domain", "is_canonical", "embedding_model", "updated_at"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["embedding_model"]  # changes only through a re-embed job


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["title", "collection", "source", "content_type", "version", "updated_at"]
    list_filter = ["collection", "content_type"]
    search_fields = ["title", "source"]
    readonly_fields = ["checksum", "version", "size_bytes", "content_type"]


@admin.register(Chunk)
class ChunkAdmin(admin.ModelAdmin):
    list_display = ["id", "document", "version", "position", "embedding_model", "retired_at"]
    list_filter = ["embedding_model", "collection"]
    list_select_related = ["document"]
    exclude = ["embedding"]
    readonly_fields = [f.name for f in Chunk._meta.fields if f.name != "embedding"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class IngestUploadForm(forms.ModelForm):
    upload = forms.FileField(help_text=".txt, .md, .html, .pdf or .csv")

    class Meta:
        model = IngestJob
        fields = ["collection", "title"]


@admin.register(IngestJob)
class IngestJobAdmin(admin.ModelAdmin):
    """Adding an ingest job here uploads a file and queues its ingestion."""

    list_display = ["filename", "collection", "status", "progress_done", "outcome", "created_at"]
    list_filter = ["status", "collection"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        if obj is None:
            kwargs["form"] = IngestUploadForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return []
        return [f.name for f in IngestJob._meta.fields]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return
        job = services.ingest_job_create(
            collection_id=form.cleaned_data["collection"].id,
            upload=form.cleaned_data["upload"],
            title=form.cleaned_data.get("title", ""),
            created_by=request.user,  # type: ignore[arg-type]
        )
        obj.pk = job.pk


@admin.register(ReembedJob)
class ReembedJobAdmin(admin.ModelAdmin):
    list_display = ["collection", "from_model", "to_model", "status", "progress_done", "created_at"]
    readonly_fields = [f.name for f in ReembedJob._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started from the collection page (it needs a model choice check)


@admin.register(RetrievalLog)
class RetrievalLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "query", "work_item_id", "step", "took_ms"]
    search_fields = ["query"]
    readonly_fields = [f.name for f in RetrievalLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
