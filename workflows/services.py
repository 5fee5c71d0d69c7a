"""Control-plane writes: workflows and versions, intake, operator retry, cancel."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max

from aios_app.models import Team
from workflows.exceptions import IllegalTransition, InvalidInput, WorkflowNotFound
from workflows.lifecycle import OPEN_STATES, record_event, transition
from workflows.models import Status, StepRun, Workflow, WorkflowVersion, WorkItem
from workflows.policy import validate_policy
from workflows.schemas import check_schema, schema_errors
from workflows.steps import schedule_step

_RESUME_STATE = {
    "draft": Status.DRAFTING,
    "commit": Status.COMMITTING,
    "rollback": Status.AWAITING_VALIDATION,
}


@transaction.atomic
def workflow_version_create(
    *,
    workflow: Workflow,
    agent: str,
    reviewing_team: Team,
    escalation_team: Team | None = None,
    review_policy: dict[str, Any] | None = None,
    input_schema: dict[str, Any] | None = None,
    draft_schema: dict[str, Any] | None = None,
    connector: dict[str, Any] | None = None,
    steps: dict[str, Any] | None = None,
    routes: dict[str, str] | None = None,
    self_hosted_only: bool = False,
    queue: str = "central",
    sla_seconds: int = 4 * 3600,
    created_by: AbstractBaseUser | None = None,
) -> WorkflowVersion:
    """Versions are immutable: every change to a workflow is a new version."""
    errors: dict[str, str] = {}
    for name, schema in (("input_schema", input_schema), ("draft_schema", draft_schema)):
        if schema:
            problem = check_schema(schema)
            if problem:
                errors[name] = problem
    errors.update(
        {f"review_policy.{k}": v for k, v in validate_policy(review_policy or {}).items()}
    )
    if not queue.replace("-", "").replace("_", "").isalnum():
        errors["queue"] = "letters, digits, - and _ only"
    if errors:
        raise InvalidInput(errors)
    Workflow.objects.select_for_update().get(pk=workflow.pk)  # serialise version numbers
    number = (workflow.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return WorkflowVersion.objects.create(
        workflow=workflow,
        number=number,
        agent=agent,
        reviewing_team=reviewing_team,
        escalation_team=escalation_team,
        review_policy=review_policy or {},
        input_schema=input_schema or {},
        draft_schema=draft_schema or {},
        connector=connector or {},
        steps=steps or {},
        routes=routes or {},
        self_hosted_only=self_hosted_only,
        queue=queue,
        sla_seconds=sla_seconds,
        created_by=created_by,
    )


def current_version(workflow: Workflow) -> WorkflowVersion:
    version = workflow.versions.order_by("-number").first()
    if version is None:
        raise WorkflowNotFound(f"workflow {workflow.slug!r} has no version yet")
    return version


def work_item_intake(
    *,
    workflow: Workflow | str,
    external_key: str,
    input: dict[str, Any],
    priority: int = 0,
    actor: AbstractBaseUser | None = None,
) -> tuple[WorkItem, bool]:
    """Create a work item and schedule its draft step. Idempotent on (workflow, key):
    the same key returns the existing item and `created=False`.

    Invalid input raises InvalidInput listing every bad field; nothing is stored.
    """
    if isinstance(workflow, str):
        try:
            workflow = Workflow.objects.get(slug=workflow, is_active=True)
        except Workflow.DoesNotExist:
            raise WorkflowNotFound(f"no active workflow {workflow!r}") from None
    key = (external_key or "").strip()
    if not key:
        raise InvalidInput({"external_key": "is required"})
    if len(key) > 200:
        raise InvalidInput({"external_key": "at most 200 characters"})
    existing = WorkItem.objects.filter(workflow=workflow, external_key=key).first()
    if existing is not None:
        return existing, False
    version = current_version(workflow)
    errors = schema_errors(version.input_schema, input)
    if errors:
        raise InvalidInput(errors)
    try:
        with transaction.atomic():
            item = WorkItem.objects.create(
                version=version,
                workflow=workflow,
                external_key=key,
                input=input,
                priority=priority,
                team_id=version.reviewing_team_id,
            )
            record_event(
                item,
                kind="received",
                actor=actor,
                actor_label=None if actor else "intake",
                payload={"version": version.number, "external_key": key},
            )
            schedule_step(item, step="draft")
    except IntegrityError:
        # Lost a race with another intake of the same key: theirs is the item.
        return WorkItem.objects.get(workflow=workflow, external_key=key), False
    return item, True


@transaction.atomic
def work_item_retry(*, item_id: int, actor: AbstractBaseUser) -> WorkItem:
    """Operator action: resume a failed item from the step that failed."""
    item = (
        WorkItem.objects.select_for_update(of=("self",)).select_related("version").get(pk=item_id)
    )
    if item.status != Status.FAILED:
        raise IllegalTransition(item.status, "retry")
    step = item.failed_step or "draft"
    last = StepRun.objects.filter(item=item, step=step).order_by("-id").first()
    round_ = (last.round + 1) if last else 1
    params = last.params if last else {}
    transition(item, to=_RESUME_STATE[step], actor=actor, payload={"retry": step, "round": round_})
    schedule_step(item, step=step, params=params, round=round_)
    return item


@transaction.atomic
def work_item_cancel(*, item_id: int, actor: AbstractBaseUser, reason: str) -> WorkItem:
    item = WorkItem.objects.select_for_update(of=("self",)).get(pk=item_id)
    if item.status not in OPEN_STATES:
        raise IllegalTransition(item.status, Status.CANCELLED)
    StepRun.objects.filter(item=item, state=StepRun.State.PENDING).update(
        state=StepRun.State.CANCELLED, error="item cancelled"
    )
    transition(item, to=Status.CANCELLED, actor=actor, payload={"reason": reason})
    return item
