from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from aios_app import kpis, roles

WINDOWS = (7, 30, 90)


@require_GET
@roles.role_required(roles.VIEW_KPIS)
def kpis_view(request: HttpRequest) -> HttpResponse:
    try:
        days = int(request.GET.get("days", 30))
    except ValueError:
        days = 30
    if days not in WINDOWS:
        days = 30
    rows = kpis.workflow_kpis(days=days)
    return render(request, "aios_app/kpis.html", {"rows": rows, "days": days, "windows": WINDOWS})
