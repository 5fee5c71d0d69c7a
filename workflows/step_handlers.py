"""What each step does. `execute` runs with no transaction open (model calls, HTTP);
`apply` runs inside the completing transaction with the item locked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from django.utils import timezone

from workflows import policy
from workflows.agents.base import DraftRequest, DraftResult, get_agent
from workflows.connectors.base import CommitResult, get_connector, idempotency_key
from workflows.lifecycle import transition
from workflows.models import Draft, Status, StepRun, WorkItem
from workflows.steps import schedule_step

S = Status


class StepHandler(Protocol):
    runs_in: tuple[str, ...]  # the item's state while the step runs (first = entered)
    enters_from: tuple[str, ...]  # states the claim moves from into runs_in[0]

    def execute(self, item: WorkItem, run: StepRun) -> Any: ...

    def apply(self, item: WorkItem, run: StepRun, result: Any) -> None: ...


@dataclass(frozen=True)
class DraftStep:
    runs_in: tuple[str, ...] = (S.DRAFTING,)
    enters_from: tuple[str, ...] = (S.RECEIVED, S.REDRAFT_REQUESTED)

    def execute(self, item: WorkItem, run: StepRun) -> DraftResult:
        version = item.version
        previous = item.current_draft.fields if item.current_draft_id else None
        request = DraftRequest(
            item_id=item.pk,
            workflow_slug=item.workflow.slug,
            input=item.input,
            draft_schema=version.draft_schema,
            routes=version.routes,
            self_hosted_only=version.self_hosted_only,
            instruction=run.params.get("instruction", ""),
            previous_fields=previous,
            attempt=run.attempt,
            config=version.step_policy("draft"),
        )
        return get_agent(version.agent).draft(request)

    def apply(self, item: WorkItem, run: StepRun, result: DraftResult) -> None:
        version = item.version
        draft = Draft.objects.create(
            item=item,
            number=Draft.objects.filter(item=item).count() + 1,
            author_kind=Draft.Author.AGENT,
            agent=version.agent,
            provider_label=result.provider_label,
            fields=result.fields,
            valid=result.valid,
            validation_errors=result.validation_errors,
            raw_output=result.raw_output,
            confidence=result.confidence,
            rationale=result.rationale,
            citations=result.citations,
            model_call_ids=result.model_call_ids,
            instruction=run.params.get("instruction", ""),
            cost=result.cost,
        )
        item.current_draft = draft
        item.confidence = result.confidence
        item.cost_so_far += result.cost
        transition(
            item,
            to=S.DRAFTED,
            actor_label=f"agent:{version.agent}",
            payload={"draft": draft.number, "confidence": result.confidence, "valid": result.valid},
            extra_update_fields=("current_draft", "confidence", "cost_so_far"),
        )
        decision = policy.decide(
            version.review_policy,
            item_id=item.pk,
            fields=result.fields,
            valid=result.valid,
            confidence=result.confidence,
        )
        if decision.review_before_commit:
            item.team_id = version.reviewing_team_id
            item.due_at = timezone.now() + timedelta(seconds=version.sla_seconds)
            transition(
                item,
                to=S.AWAITING_REVIEW,
                actor_label="policy",
                payload={"reasons": decision.reasons},
                extra_update_fields=("team", "due_at"),
            )
        else:
            transition(
                item,
                to=S.COMMITTING,
                actor_label="policy",
                payload={"auto": True, "validate_after": decision.validate_after_commit},
            )
            schedule_step(item, step="commit", params={"validate": decision.validate_after_commit})


@dataclass(frozen=True)
class CommitStep:
    runs_in: tuple[str, ...] = (S.COMMITTING,)
    enters_from: tuple[str, ...] = (S.APPROVED,)

    def execute(self, item: WorkItem, run: StepRun) -> CommitResult:
        connector = get_connector(item.version.connector)
        fields = item.current_draft.fields if item.current_draft_id else {}
        return connector.commit(
            key=idempotency_key(item_id=item.pk, step="commit"),
            item_id=item.pk,
            payload={"workflow": item.workflow.slug, "external_key": item.external_key,
                     "fields": fields},
        )  # fmt: skip

    def apply(self, item: WorkItem, run: StepRun, result: CommitResult) -> None:
        item.external_ref = result.external_id
        transition(
            item,
            to=S.COMMITTED,
            actor_label="connector",
            payload={"external_id": result.external_id},
            extra_update_fields=("external_ref",),
        )
        if run.params.get("validate"):
            item.team_id = item.version.reviewing_team_id
            item.due_at = timezone.now() + timedelta(seconds=item.version.sla_seconds)
            transition(
                item,
                to=S.AWAITING_VALIDATION,
                actor_label="policy",
                payload={"sampled": True},
                extra_update_fields=("team", "due_at"),
            )


@dataclass(frozen=True)
class RollbackStep:
    """Undo a commit downstream; runs while the item awaits validation."""

    runs_in: tuple[str, ...] = (S.AWAITING_VALIDATION,)
    enters_from: tuple[str, ...] = ()

    def execute(self, item: WorkItem, run: StepRun) -> CommitResult:
        connector = get_connector(item.version.connector)
        return connector.rollback(
            key=idempotency_key(item_id=item.pk, step="rollback"),
            item_id=item.pk,
            external_id=item.external_ref,
            reason=run.params.get("reason", ""),
        )

    def apply(self, item: WorkItem, run: StepRun, result: CommitResult) -> None:
        transition(
            item,
            to=S.ROLLED_BACK,
            actor_label=run.params.get("by", "system"),
            payload={"reason": run.params.get("reason", ""), "rollback_id": result.external_id},
        )


HANDLERS: dict[str, StepHandler] = {
    "draft": DraftStep(),
    "commit": CommitStep(),
    "rollback": RollbackStep(),
}
