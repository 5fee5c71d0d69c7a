from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from aios_app import roles
from workflows.connectors.models import DemoSinkRecord
from workflows.connectors.services import demo_sink_receive, demo_sink_token


@csrf_exempt  # machine-to-machine: authenticated by the shared token header instead
@require_POST
def demo_sink_receive_view(request: HttpRequest, action: str) -> HttpResponse:
    if not settings.AIOS_DEMO_SINK_ENABLED:
        raise Http404
    token = request.headers.get("X-Aios-Sink-Token", "")
    if not constant_time_compare(token, demo_sink_token()):
        return JsonResponse({"error": "bad token"}, status=403)
    key = request.headers.get("Idempotency-Key", "")
    if not key or len(key) > 64:
        return JsonResponse({"error": "Idempotency-Key header required (≤ 64 chars)"}, status=400)
    try:
        body = json.loads(request.body)
        item_id = int(body["item_id"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": "JSON body with an integer item_id required"}, status=400)
    record = demo_sink_receive(action=action, idempotency_key=key, item_id=item_id, payload=body)
    return JsonResponse({"id": record.external_id, "action": record.action})


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def demo_sink_list(request: HttpRequest) -> HttpResponse:
    records = DemoSinkRecord.objects.all()[:200]
    return render(
        request,
        "connectors/demo_sink.html",
        {"records": records, "enabled": settings.AIOS_DEMO_SINK_ENABLED},
    )
