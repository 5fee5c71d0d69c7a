from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aios_app import roles


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def provider_list(request: HttpRequest) -> HttpResponse:
    return render(request, "llm/provider_list.html", {})
