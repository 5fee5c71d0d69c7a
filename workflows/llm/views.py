"""Admin pages of the model plane: providers (with breaker state), routes, the call ledger."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from aios_app import roles
from workflows.llm import selectors, services
from workflows.llm.models import ModelCall, Provider

PAGE_SIZE = 50


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def provider_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "llm/provider_list.html", {"rows": selectors.provider_list_with_breakers()}
    )


@require_POST
@roles.role_required(roles.ADMIN_WORKFLOWS)
def provider_breaker_reset(request: HttpRequest, provider_id: int) -> HttpResponse:
    try:
        provider = services.provider_breaker_reset(provider_id=provider_id)
    except Provider.DoesNotExist:
        raise Http404("no such provider") from None
    messages.success(request, f"Circuit breaker of {provider.name} closed.")
    return redirect("llm:provider-list")


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def route_list(request: HttpRequest) -> HttpResponse:
    return render(request, "llm/route_list.html", {"routes": selectors.route_list()})


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def model_call_list(request: HttpRequest) -> HttpResponse:
    before = _int_param(request, "before")
    work_item = _int_param(request, "work_item")
    calls = selectors.model_call_list(before_id=before, work_item_id=work_item, limit=PAGE_SIZE)
    next_before = calls[-1].id if len(calls) == PAGE_SIZE else None
    context = {"calls": calls, "next_before": next_before, "work_item": work_item}
    return render(request, "llm/model_call_list.html", context)


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def model_call_detail(request: HttpRequest, call_id: int) -> HttpResponse:
    try:
        call = selectors.model_call_get(call_id=call_id)
    except ModelCall.DoesNotExist:
        raise Http404("no such model call") from None
    return render(request, "llm/model_call_detail.html", {"call": call})


def _int_param(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None
