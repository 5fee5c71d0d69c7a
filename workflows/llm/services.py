"""Writes of the model plane: template versions, the call ledger, the cache, defaults."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F

from workflows.llm import breaker, redaction, selectors
from workflows.llm.models import (
    Egress,
    ModelCall,
    PromptTemplate,
    Provider,
    ProviderKind,
    ResponseCache,
    Route,
)

DEFAULT_PROVIDER = "offline"
DEFAULT_ROUTE = "default"


@transaction.atomic
def prompt_template_save(
    *, name: str, user: str, system: str = "", created_by: AbstractBaseUser | None = None
) -> PromptTemplate:
    """Save a prompt: a new version when the text changed, else the current version.

    Versions are immutable rows; the advisory lock on the name makes two admins saving at
    once get consecutive versions rather than a unique-constraint error.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"llm.template:{name}"])
    latest = PromptTemplate.objects.filter(name=name).order_by("-version").first()
    if latest is not None and latest.system == system and latest.user == user:
        return latest
    transaction.on_commit(selectors.config_cache_clear)
    return PromptTemplate.objects.create(
        name=name,
        version=(latest.version + 1) if latest else 1,
        system=system,
        user=user,
        created_by=created_by,
    )


def model_call_record(**fields: Any) -> int:
    """Append one ledger row (autocommit: never inside the caller's model-call window)."""
    return ModelCall.objects.create(**fields).pk


def model_call_tool_calls_set(
    *, call_id: int, tool_calls: list[dict[str, Any]], redact: bool
) -> None:
    """Record what happened to the tool calls a model asked for (run, refused, failed)."""
    if redact:
        tool_calls = redaction.redact_value(tool_calls)
    ModelCall.objects.filter(id=call_id).update(tool_calls=tool_calls)


def response_cache_put(*, key: str, response: dict[str, Any]) -> None:
    # ON CONFLICT DO NOTHING: another worker may have cached the same request first.
    ResponseCache.objects.bulk_create(
        [ResponseCache(key=key, response=response)], ignore_conflicts=True
    )


def response_cache_hit(*, key: str) -> None:
    ResponseCache.objects.filter(key=key).update(hits=F("hits") + 1)


def provider_breaker_reset(*, provider_id: int) -> Provider:
    """Close a provider's circuit breaker by hand."""
    provider = Provider.objects.get(id=provider_id)
    breaker.close(provider)
    return provider


@transaction.atomic
def llm_defaults_ensure() -> Route:
    """Make the system work with no configuration: an `offline` provider and a `default`
    route on it (self-hosted: nothing leaves the machine). Idempotent; never changes rows
    an admin has edited. The offline handler itself is registered by the agent layer."""
    provider, _ = Provider.objects.get_or_create(
        name=DEFAULT_PROVIDER, defaults={"kind": ProviderKind.OFFLINE}
    )
    route, _ = Route.objects.get_or_create(
        name=DEFAULT_ROUTE,
        defaults={
            "provider": provider,
            "model": "offline",
            "egress": Egress.SELF_HOSTED,
            "max_attempts": 1,
        },
    )
    return route
