from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from workflows.llm import services
from workflows.llm.models import ModelCall, PromptTemplate, Provider, ResponseCache, Route


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "base_url", "api_key_env", "is_active"]
    list_filter = ["kind", "is_active"]


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["name", "provider", "model", "egress", "timeout_s", "fallback"]
    list_filter = ["egress", "provider"]
    list_select_related = ["provider", "fallback"]


@admin.register(PromptTemplate)
class PromptTemplateAdmin(admin.ModelAdmin):
    """Versions are immutable: "change" saves a new version through the service."""

    list_display = ["name", "version", "created_by", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["version", "created_by", "created_at"]

    def save_model(
        self, request: HttpRequest, obj: PromptTemplate, form: Any, change: bool
    ) -> None:
        saved = services.prompt_template_save(
            name=obj.name, system=obj.system, user=obj.user, created_by=request.user
        )
        obj.pk, obj.version = saved.pk, saved.version


@admin.register(ModelCall)
class ModelCallAdmin(admin.ModelAdmin):
    list_display = ["id", "created_at", "route_name", "request_model", "input_tokens",
                    "output_tokens", "cost", "latency_ms", "cache_hit", "error_type"]  # fmt: skip
    list_filter = ["provider_kind", "cache_hit", "error_type"]
    search_fields = ["=work_item_id", "step", "route_name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is append-only

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(ResponseCache)
class ResponseCacheAdmin(admin.ModelAdmin):
    list_display = ["key", "hits", "created_at"]
