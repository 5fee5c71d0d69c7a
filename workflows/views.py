from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aios_app import roles


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def workflow_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workflows/workflow_list.html", {})


@require_GET
@roles.role_required(roles.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(request, "workflows/audit_log.html", {})
