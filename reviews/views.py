"""The reviewer workspace: queue, item page, one view per action, resync endpoint.

Every view needs the REVIEW permission (managers get 403) and sees only the items of
the user's teams (404 otherwise). Domain errors become 409 (someone else decided or
holds the item: the fresh state is shown) or 422 (invalid input: errors per field,
nothing stored).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from aios_app import roles
from reviews import forms, selectors, services
from reviews.exceptions import ClaimedByOther, DomainError, InvalidInput
from workflows.models import Status, WorkItem

S = Status


def htmx_partial(request: HttpRequest) -> bool:
    """True when the request wants a fragment rather than the whole page."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted


def _get_item_for_reviewer(
    request: HttpRequest, item_id: int, *, for_decision: bool = False
) -> tuple[WorkItem, set[int]]:
    """The item if it belongs to one of the user's teams, else 404 (never 403: the
    item's existence is not disclosed). `for_decision`: only what a decision reads (the
    service locks and re-reads the row itself), without the page's joins."""
    team_ids = selectors.user_team_ids(request.user)
    find = selectors.item_for_decision if for_decision else selectors.item_for_reviewer
    item = find(item_id, team_ids)
    if item is None:
        raise Http404("No such item in your queues")
    return item, team_ids


def _queue_params(data: QueryDict, team_ids: set[int], default_team: int | None = None):
    team = data.get("team", "")
    team_id = int(team) if team.isdigit() and int(team) in team_ids else default_team
    if team_id not in team_ids:
        team_id = min(team_ids) if team_ids else 0
    status = data.get("status", S.AWAITING_REVIEW)
    workflow = data.get("workflow", "")
    size = data.get("size", "")
    return selectors.QueueParams(
        team_id=team_id,
        status=status if status in selectors.QUEUE_STATUSES else S.AWAITING_REVIEW,
        sort=data.get("sort", "") if data.get("sort", "") in selectors.SORTS else "priority",
        workflow_id=int(workflow) if workflow.isdigit() else None,
        assignee=data.get("assignee", "")[:12],
        after=data.get("after", "")[:80],
        size=min(int(size), 200)
        if size.isdigit() and int(size) > 0
        else settings.AIOS_REVIEW_PAGE_SIZE,
    )


def _queue_qs(params: selectors.QueueParams) -> str:
    pairs = {"team": params.team_id, "status": params.status, "sort": params.sort}
    if params.workflow_id:
        pairs["workflow"] = params.workflow_id
    if params.assignee:
        pairs["assignee"] = params.assignee
    return urlencode(pairs)


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if request.htmx:  # type: ignore[attr-defined]
        response = HttpResponse(status=200)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- queue -----------------------------------------------------------------------------

STATUS_LABELS = {S.AWAITING_REVIEW: "Review", S.AWAITING_VALIDATION: "Validation"}


def _tabs(teams: list, counts: dict, params: selectors.QueueParams) -> list[dict[str, Any]]:
    """One tab per (team, queue status) with its count."""
    return [
        {
            "team": team,
            "status": status,
            "label": STATUS_LABELS[status],
            "count": counts.get((team.pk, status), 0),
            "active": team.pk == params.team_id and status == params.status,
            "qs": urlencode({"team": team.pk, "status": status, "sort": params.sort}),
        }
        for team in teams
        for status in selectors.QUEUE_STATUSES
    ]


@require_GET
@roles.role_required(roles.REVIEW)
def queue(request: HttpRequest) -> HttpResponse:
    teams = selectors.user_teams(request.user)
    team_ids = {t.pk for t in teams}
    params = _queue_params(request.GET, team_ids)
    page = selectors.queue_page(request.user, params) if team_ids else None
    context = {
        "teams": teams,
        "params": params,
        "page": page,
        "queue_qs": _queue_qs(params),
        "tabs": _tabs(teams, selectors.queue_counts(team_ids), params),
        "sorts": selectors.SORTS,
        "workflows": selectors.workflows_for_teams(team_ids),
        "bulk_floor": settings.AIOS_REVIEW_BULK_MIN_CONFIDENCE,
        "can_bulk": params.status == S.AWAITING_REVIEW,
        # rows build their links from one reversed prefix (a {% url %} per row is slow)
        "item_base": reverse("reviews:work-item", args=[0]).removesuffix("0/"),
        "now": timezone.now(),
        "last_event_id": selectors.last_event_id(),
    }
    if htmx_partial(request):
        return render(request, "reviews/queue.html#queue-live", context)
    context["unread"] = selectors.unread_notification_count(request.user)
    return render(request, "reviews/queue.html", context)


@require_GET
@roles.role_required(roles.REVIEW)
def next_item(request: HttpRequest) -> HttpResponse:
    """The next item of the queue described by the query (after ?after_item when given)."""
    team_ids = selectors.user_team_ids(request.user)
    params = _queue_params(request.GET, team_ids)
    after = request.GET.get("after_item", "")
    current = selectors.item_for_reviewer(int(after), team_ids) if after.isdigit() else None
    item_id = selectors.next_item_id(request.user, params, after_item=current)
    if item_id is None:
        messages.info(request, "Nothing more in this queue.")
        return _redirect(request, f"{reverse('reviews:queue')}?{_queue_qs(params)}")
    url = reverse("reviews:work-item", args=[item_id])
    return _redirect(request, f"{url}?{_queue_qs(params)}")


def _next_url(request: HttpRequest, params: selectors.QueueParams) -> str:
    item_id = selectors.next_item_id(request.user, params)
    if item_id is None:
        messages.info(request, "Queue done: nothing more to review here.")
        return f"{reverse('reviews:queue')}?{_queue_qs(params)}"
    return f"{reverse('reviews:work-item', args=[item_id])}?{_queue_qs(params)}"


@require_POST
@roles.role_required(roles.REVIEW)
def bulk_approve(request: HttpRequest) -> HttpResponse:
    form = forms.BulkApproveForm(request.POST)
    ids = form.cleaned_data["ids"] if form.is_valid() else []
    result = services.work_items_bulk_approve(item_ids=ids, reviewer=request.user)
    text = f"Approved {len(result.approved)} item(s)."
    if result.skipped:
        reasons = "; ".join(f"#{pk}: {why}" for pk, why in sorted(result.skipped.items()))
        text += f" Skipped {len(result.skipped)}: {reasons}"
    messages.success(request, text) if result.approved else messages.warning(request, text)
    return _redirect(request, f"{reverse('reviews:queue')}?{request.POST.get('queue', '')}")


# --- item page -------------------------------------------------------------------------


def _item_context(
    request: HttpRequest, item: WorkItem, team_ids: set[int], **extra: Any
) -> dict[str, Any]:
    params = _queue_params(QueryDict(extra.pop("queue_qs", request.GET.urlencode())), team_ids)
    draft = item.current_draft
    fields = extra.pop("fields", None)
    if fields is None:
        fields = forms.draft_fields(item.version.draft_schema, draft.fields if draft else {})
    events = selectors.item_timeline(item)
    now = timezone.now()
    live_claim = item.claimed_by_id and item.claim_expires_at and item.claim_expires_at > now
    return {
        "item": item,
        "draft": draft,
        "fields": fields,
        "events": events,
        "diffs": selectors.item_diffs(events),
        "model_calls": selectors.item_model_calls(item),
        "queue_qs": _queue_qs(params),
        "params": params,
        "held_by_me": bool(live_claim and item.claimed_by_id == request.user.pk),
        "held_by_other": item.claimed_by
        if live_claim and item.claimed_by_id != request.user.pk
        else None,
        "should_claim": not live_claim and item.status in services.CLAIMABLE,
        "can_review": item.status == S.AWAITING_REVIEW,
        "can_validate": item.status == S.AWAITING_VALIDATION,
        "escalate_form": forms.EscalateForm(exclude_team_id=item.team_id),
        "idle_seconds": settings.AIOS_REVIEW_IDLE_SECONDS,
        "last_event_id": selectors.last_event_id(),
        "errors": {},
        "message": "",
        **extra,
    }


PARTS = {"decision": "decision-panel", "timeline": "timeline", "claim": "claim-banner"}


@require_GET
@roles.role_required(roles.REVIEW)
def work_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item, team_ids = _get_item_for_reviewer(request, item_id)
    context = _item_context(request, item, team_ids)
    part = PARTS.get(request.GET.get("part", ""))
    if part and htmx_partial(request):
        return render(request, f"reviews/item.html#{part}", context)
    return render(request, "reviews/item.html", context)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_claim(request: HttpRequest, item_id: int) -> HttpResponse:
    item, team_ids = _get_item_for_reviewer(request, item_id)
    status = 200
    try:
        item = services.work_item_claim(item_id=item.pk, reviewer=request.user)
    except ClaimedByOther:
        status = 409
    item, _ = _get_item_for_reviewer(request, item_id)
    context = _item_context(request, item, team_ids)
    return render(request, "reviews/item.html#claim-banner", context, status=status)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_release(request: HttpRequest, item_id: int) -> HttpResponse:
    item, _ = _get_item_for_reviewer(request, item_id)
    services.work_item_release(item_id=item.pk, reviewer=request.user)
    return HttpResponse(status=204)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_ping(request: HttpRequest, item_id: int) -> HttpResponse:
    item, _ = _get_item_for_reviewer(request, item_id)
    held = services.work_item_ping(item_id=item.pk, reviewer=request.user)
    return JsonResponse({"held": held})


def _decide(
    request: HttpRequest,
    item_id: int,
    action: Callable[[WorkItem], Any],
    found: tuple[WorkItem, set[int]] | None = None,
    **on_error: Any,
) -> HttpResponse:
    """Run one decision service; on success open the next item of the same queue."""
    item, team_ids = found or _get_item_for_reviewer(request, item_id, for_decision=True)
    queue_qs = request.POST.get("queue", "")
    params = _queue_params(QueryDict(queue_qs), team_ids, default_team=item.team_id)
    try:
        action(item)
    except InvalidInput as exc:
        return _decision_error(
            request, item_id, team_ids, queue_qs, 422, errors=exc.errors, **on_error
        )
    except DomainError as exc:
        return _decision_error(request, item_id, team_ids, queue_qs, 409, message=str(exc))
    return _redirect(request, _next_url(request, params))


def _decision_error(
    request: HttpRequest, item_id: int, team_ids: set[int], queue_qs: str, status: int, **extra: Any
) -> HttpResponse:
    item = selectors.item_for_reviewer(item_id, team_ids)  # the fresh state
    if item is None:  # no longer this user's team's item (escalated away)
        return _redirect(request, reverse("reviews:queue"))
    fields = extra.pop("fields", None)
    if fields is not None:
        forms.attach_errors(fields, extra.get("errors", {}))
    context = _item_context(request, item, team_ids, queue_qs=queue_qs, fields=fields, **extra)
    template = "reviews/item.html#decision-panel" if htmx_partial(request) else "reviews/item.html"
    return render(request, template, context, status=status)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_approve(request: HttpRequest, item_id: int) -> HttpResponse:
    found = _get_item_for_reviewer(request, item_id, for_decision=True)
    item = found[0]
    draft = item.current_draft
    fields = forms.draft_fields(item.version.draft_schema, draft.fields if draft else {})
    edited, errors = (None, {})
    if request.POST.get("with_fields"):
        edited, errors = forms.parse_draft_post(fields, request.POST)
    if errors:
        edited = None

    def approve(it: WorkItem) -> None:
        if errors:
            raise InvalidInput(errors)
        services.work_item_approve(item_id=it.pk, reviewer=request.user, edited=edited)

    return _decide(request, item_id, approve, found, fields=fields)


def _text_action(
    request: HttpRequest, item_id: int, form_class: type, call: Callable[..., Any]
) -> HttpResponse:
    form = form_class(request.POST)
    data = form.cleaned_data if form.is_valid() else None

    def action(item: WorkItem) -> None:
        if data is None:
            raise InvalidInput({k: "; ".join(v) for k, v in form.errors.items()})
        call(item, data)

    return _decide(request, item_id, action)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_reject(request: HttpRequest, item_id: int) -> HttpResponse:
    def call(item: WorkItem, data: dict[str, Any]) -> None:
        services.work_item_reject(item_id=item.pk, reviewer=request.user, reason=data["reason"])

    return _text_action(request, item_id, forms.ReasonForm, call)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_escalate(request: HttpRequest, item_id: int) -> HttpResponse:
    def call(item: WorkItem, data: dict[str, Any]) -> None:
        team = data.get("team")
        services.work_item_escalate(
            item_id=item.pk,
            reviewer=request.user,
            reason=data["reason"],
            team_id=team.pk if team else None,
        )

    return _text_action(request, item_id, forms.EscalateForm, call)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_redraft(request: HttpRequest, item_id: int) -> HttpResponse:
    def call(item: WorkItem, data: dict[str, Any]) -> None:
        services.work_item_request_redraft(
            item_id=item.pk, reviewer=request.user, instruction=data["instruction"]
        )

    return _text_action(request, item_id, forms.RedraftForm, call)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_validate(request: HttpRequest, item_id: int) -> HttpResponse:
    def validate(item: WorkItem) -> None:
        services.work_item_validate(item_id=item.pk, reviewer=request.user)

    return _decide(request, item_id, validate)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_rollback(request: HttpRequest, item_id: int) -> HttpResponse:
    def call(item: WorkItem, data: dict[str, Any]) -> None:
        services.work_item_rollback(item_id=item.pk, reviewer=request.user, reason=data["reason"])

    return _text_action(request, item_id, forms.ReasonForm, call)


@require_POST
@roles.role_required(roles.REVIEW)
def work_item_comment(request: HttpRequest, item_id: int) -> HttpResponse:
    item, team_ids = _get_item_for_reviewer(request, item_id)
    form = forms.CommentForm(request.POST)
    status, error = 200, ""
    try:
        body = form.cleaned_data["body"] if form.is_valid() else ""
        services.work_item_comment(item_id=item.pk, author=request.user, body=body)
    except InvalidInput as exc:
        status, error = 422, "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    if not htmx_partial(request):
        return redirect("reviews:work-item", item_id=item.pk)
    context = _item_context(request, item, team_ids, comment_error=error)
    response = render(request, "reviews/item.html#comments", context, status=status)
    response["HX-Trigger"] = "timeline-changed"
    return response


# --- resync, notifications -------------------------------------------------------------


@require_GET
@roles.role_required(roles.REVIEW)
def events(request: HttpRequest) -> JsonResponse:
    """Events of the user's teams' items after ?after=<event id> (socket resync)."""
    after = request.GET.get("after", "0")
    team_ids = selectors.user_team_ids(request.user)
    return JsonResponse(selectors.events_since(team_ids, int(after) if after.isdigit() else -1))


@require_GET
@roles.role_required(roles.REVIEW)
def notifications(request: HttpRequest) -> HttpResponse:
    context = {"notifications": selectors.notifications_for(request.user)}
    return render(request, "reviews/notifications.html", context)


@require_POST
@roles.role_required(roles.REVIEW)
def notifications_read(request: HttpRequest) -> HttpResponse:
    services.notifications_mark_read(user=request.user)
    return redirect("reviews:notifications")
