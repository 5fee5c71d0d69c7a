from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from aios_app import health, roles


@require_GET
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no dependency on purpose."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request: HttpRequest) -> HttpResponse:
    """Readiness: database, Redis and a live Celery worker; 503 naming what failed."""
    checks = health.readiness()
    failing = [c.name for c in checks if not c.ok]
    body = {
        "status": "ok" if not failing else "unavailable",
        "failing": failing,
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
    }
    return JsonResponse(body, status=503 if failing else 200)


@require_GET
@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Landing page: what this user's roles let them do, with a way into each."""
    return render(
        request,
        "aios_app/home.html",
        {"is_reviewer": roles.has_role_perm(request.user, roles.REVIEW)},
    )
