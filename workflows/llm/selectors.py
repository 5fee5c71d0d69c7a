"""Reads of the model plane."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet

from workflows.llm import breaker
from workflows.llm.exceptions import RouteNotFound, TemplateNotFound
from workflows.llm.models import ModelCall, PromptTemplate, Provider, ResponseCache, Route

MAX_FALLBACK_DEPTH = 8

# Routes and the latest template version per name are read on every call; each worker
# process keeps them for AIOS_LLM_CONFIG_TTL_S seconds (0: always read). A change made in
# another process takes effect here within that time; template saves in this process
# clear it at once.
_config: dict[tuple[str, str], tuple[float, Any]] = {}
_config_lock = threading.Lock()


def _cached(kind: str, name: str, load: Callable[[], Any]) -> Any:
    ttl = settings.AIOS_LLM_CONFIG_TTL_S
    if ttl <= 0:
        return load()
    now = time.monotonic()
    hit = _config.get((kind, name))
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    with _config_lock:
        _config[(kind, name)] = (now + ttl, value)
    return value


def config_cache_clear() -> None:
    with _config_lock:
        _config.clear()


def route_chain_get(*, name: str) -> list[Route]:
    """The route named `name` followed by its fallbacks, in order (providers loaded).

    One query for the route and its first fallback (the usual chain); deeper chains cost
    one more query per extra level. Kept per process for AIOS_LLM_CONFIG_TTL_S; the
    returned routes are shared: read them, never change them."""
    return list(_cached("route", name, lambda: _route_chain_load(name)))


def _route_chain_load(name: str) -> list[Route]:
    related = ("provider", "fallback", "fallback__provider")
    route = Route.objects.select_related(*related).filter(name=name).first()
    if route is None:
        raise RouteNotFound(f"no model route named {name!r}")
    chain: list[Route] = [route]
    seen = {route.pk}
    while route.fallback_id and route.fallback_id not in seen:
        if len(chain) >= MAX_FALLBACK_DEPTH:
            break
        if len(chain) == 1:
            route = route.fallback  # already loaded
        else:
            route = Route.objects.select_related(*related).get(pk=route.fallback_id)
        chain.append(route)
        seen.add(route.pk)
    return chain


def prompt_template_latest(*, name: str) -> PromptTemplate:
    return _cached("template", name, lambda: _prompt_template_latest_load(name))


def _prompt_template_latest_load(name: str) -> PromptTemplate:
    template = PromptTemplate.objects.filter(name=name).order_by("-version").first()
    if template is None:
        raise TemplateNotFound(f"no prompt template named {name!r}")
    return template


def prompt_template_versions(*, name: str) -> QuerySet[PromptTemplate]:
    return PromptTemplate.objects.filter(name=name).order_by("-version")


def response_cache_get(*, key: str) -> dict | None:
    row = ResponseCache.objects.filter(key=key).values_list("response", flat=True).first()
    return row


@dataclass(frozen=True)
class ProviderRow:
    provider: Provider
    breaker: breaker.BreakerState | None
    breaker_error: str


def provider_list_with_breakers() -> list[ProviderRow]:
    rows = []
    for provider in Provider.objects.order_by("name"):
        if provider.kind == "offline":
            rows.append(ProviderRow(provider, None, ""))
            continue
        try:
            rows.append(ProviderRow(provider, breaker.state_of(provider), ""))
        except Exception as exc:  # Redis down: show the page, say why the state is missing
            rows.append(ProviderRow(provider, None, f"unavailable: {exc}"))
    return rows


def route_list() -> QuerySet[Route]:
    return Route.objects.select_related("provider", "fallback").order_by("name")


def model_call_list(
    *, before_id: int | None = None, work_item_id: int | None = None, limit: int = 50
) -> list[ModelCall]:
    """Newest first, keyset-paginated by id. Heavy text columns are not loaded."""
    calls = ModelCall.objects.select_related("provider").defer("messages", "output", "tool_calls")
    if before_id is not None:
        calls = calls.filter(id__lt=before_id)
    if work_item_id is not None:
        calls = calls.filter(work_item_id=work_item_id)
    return list(calls.order_by("-id")[:limit])


def model_call_get(*, call_id: int) -> ModelCall:
    return ModelCall.objects.select_related("provider", "route", "prompt_template").get(id=call_id)
