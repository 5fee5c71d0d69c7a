from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.dateparse import parse_date
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aios_app import roles
from aios_app.tokens import api_token_authenticate
from workflows import selectors, services
from workflows.exceptions import DomainError, InvalidInput, WorkflowNotFound
from workflows.forms import CancelForm, WorkflowVersionForm
from workflows.lifecycle import OPEN_STATES
from workflows.models import Status, Workflow, WorkItem

PAGE = 50


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS)
def workflow_list(request: HttpRequest) -> HttpResponse:
    return render(request, "workflows/workflow_list.html", {"rows": selectors.workflow_rows()})


@require_http_methods(["GET", "POST"])
@roles.role_required(roles.ADMIN_WORKFLOWS)
def workflow_detail(request: HttpRequest, slug: str) -> HttpResponse:
    workflow = get_object_or_404(Workflow, slug=slug)
    versions = list(workflow.versions.select_related("reviewing_team", "escalation_team"))
    current = versions[0] if versions else None
    if request.method == "POST":
        form = WorkflowVersionForm(request.POST)
        if form.is_valid():
            try:
                version = services.workflow_version_create(
                    workflow=workflow, created_by=request.user, **form.cleaned_data
                )
            except InvalidInput as exc:
                for field, message in exc.errors.items():
                    form.add_error(field.split(".")[0] if field.split(".")[0] in form.fields
                                   else None, f"{field}: {message}")  # fmt: skip
            else:
                messages.success(request, f"Version {version.number} saved; new items use it.")
                return redirect("workflows:workflow-detail", slug=slug)
        status = 422
    else:
        initial: dict[str, Any] = {}
        if current:
            initial = {f: getattr(current, f) for f in WorkflowVersionForm.base_fields}
        form = WorkflowVersionForm(initial=initial)
        status = 200
    status_filter = request.GET.get("status") or None
    if status_filter not in Status.values:
        status_filter = None
    items, next_cursor = selectors.work_items_page(
        workflow=workflow, status=status_filter, before_id=_int_or_none(request.GET.get("before"))
    )
    context = {
        "workflow": workflow,
        "versions": versions,
        "current": current,
        "form": form,
        "items": items,
        "next_cursor": next_cursor,
        "status_filter": status_filter,
        "statuses": Status.choices,
    }
    return render(request, "workflows/workflow_detail.html", context, status=status)


@require_GET
@roles.role_required(roles.ADMIN_WORKFLOWS, roles.VIEW_AUDIT)
def work_item_detail(request: HttpRequest, item_id: int) -> HttpResponse:
    try:
        detail = selectors.work_item_detail(item_id)
    except WorkItem.DoesNotExist:
        raise Http404 from None
    can_operate = request.user.has_perm(roles.ADMIN_WORKFLOWS)
    context = {
        "d": detail,
        "can_operate": can_operate,
        "can_cancel": can_operate and detail.item.status in OPEN_STATES,
    }
    return render(request, "workflows/item_detail.html", context)


@require_POST
@roles.role_required(roles.ADMIN_WORKFLOWS)
def work_item_retry(request: HttpRequest, item_id: int) -> HttpResponse:
    get_object_or_404(WorkItem, pk=item_id)
    try:
        services.work_item_retry(item_id=item_id, actor=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Retry scheduled: the failed step runs again.")
    return redirect("workflows:work-item-detail", item_id=item_id)


@require_POST
@roles.role_required(roles.ADMIN_WORKFLOWS)
def work_item_cancel(request: HttpRequest, item_id: int) -> HttpResponse:
    get_object_or_404(WorkItem, pk=item_id)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a reason (at least 3 characters) to cancel an item.")
        return redirect("workflows:work-item-detail", item_id=item_id)
    try:
        services.work_item_cancel(
            item_id=item_id, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Item cancelled.")
    return redirect("workflows:work-item-detail", item_id=item_id)


def _audit_filters(request: HttpRequest) -> dict[str, Any]:
    since = parse_date(request.GET.get("since") or "") if request.GET.get("since") else None
    until = parse_date(request.GET.get("until") or "") if request.GET.get("until") else None
    return {
        "workflow_slug": request.GET.get("workflow") or None,
        "actor": request.GET.get("actor") or None,
        "since": since,
        "until": until,
    }


@require_GET
@roles.role_required(roles.VIEW_AUDIT)
def audit_log(request: HttpRequest) -> HttpResponse:
    filters = _audit_filters(request)
    qs = selectors.audit_events(**filters, before_id=_int_or_none(request.GET.get("before")))
    events = list(qs[: PAGE + 1])
    next_cursor = events[PAGE - 1].pk if len(events) > PAGE else None
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "workflows/audit_log.html",
        {
            "events": events[:PAGE],
            "next_cursor": next_cursor,
            "filters": filters,
            "workflows": Workflow.objects.order_by("name"),
            "query": query.urlencode(),
        },
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_GET
@roles.role_required(roles.VIEW_AUDIT)
def audit_export(request: HttpRequest) -> HttpResponse:
    """Streams every matching event, oldest first, as JSON Lines (default) or CSV."""
    qs = selectors.audit_events(**_audit_filters(request))
    rows = selectors.audit_export_rows(qs)
    if request.GET.get("format") == "csv":
        writer = csv.writer(_Echo())
        header = ["id", "item_id", "workflow", "seq", "kind", "actor_id", "actor", "from", "to",
                  "payload", "created_at", "prev_hash", "hash"]  # fmt: skip

        def lines() -> Iterator[str]:
            yield writer.writerow(header)
            for row in rows:
                row["payload"] = json.dumps(row["payload"], sort_keys=True)
                yield writer.writerow([row[h] for h in header])

        response = StreamingHttpResponse(lines(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="aios-audit.csv"'
        return response
    body = (json.dumps(row, sort_keys=True) + "\n" for row in rows)
    response = StreamingHttpResponse(body, content_type="application/x-ndjson")
    response["Content-Disposition"] = 'attachment; filename="aios-audit.jsonl"'
    return response


@csrf_exempt  # machine clients authenticate with a bearer token, not a session
@require_POST
def api_intake(request: HttpRequest, slug: str) -> HttpResponse:
    """POST /workflows/api/<slug>/items — {"external_key", "input", "priority"?}.

    201 with the new item, 200 with the existing one for a known key, 401/403 for a bad
    or out-of-scope token, 404 for an unknown workflow, 422 listing every invalid field.
    """
    token = api_token_authenticate(request)
    if token is None:
        return JsonResponse({"error": "a valid bearer token is required"}, status=401)
    if not token.allows(slug):
        return JsonResponse({"error": f"this token may not submit to {slug!r}"}, status=403)
    try:
        body = json.loads(request.body or b"null")
    except json.JSONDecodeError as exc:
        return JsonResponse({"error": f"body is not JSON: {exc.msg}"}, status=400)
    if not isinstance(body, dict):
        return JsonResponse({"error": "body must be a JSON object"}, status=400)
    errors = {}
    if not isinstance(body.get("input"), dict):
        errors["input"] = "must be a JSON object"
    priority = body.get("priority", 0)
    if not isinstance(priority, int) or isinstance(priority, bool) or not -100 <= priority <= 100:
        errors["priority"] = "must be an integer from -100 to 100"
    if not isinstance(body.get("external_key"), str):
        errors["external_key"] = "must be a string"
    if errors:
        return JsonResponse({"error": "invalid request", "fields": errors}, status=422)
    try:
        item, created = services.work_item_intake(
            workflow=slug, external_key=body["external_key"], input=body["input"],
            priority=priority,
        )  # fmt: skip
    except WorkflowNotFound as exc:
        return JsonResponse({"error": str(exc)}, status=404)
    except InvalidInput as exc:
        return JsonResponse({"error": "invalid input", "fields": exc.errors}, status=422)
    data = {"id": item.pk, "status": item.status, "external_key": item.external_key,
            "created": created}  # fmt: skip
    return JsonResponse(data, status=201 if created else 200)
