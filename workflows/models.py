"""Control plane: workflows and their immutable versions, work items, drafts, steps, events."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from aios_app.models import Team


class Status(models.TextChoices):
    RECEIVED = "received"
    DRAFTING = "drafting"
    DRAFTED = "drafted"
    AWAITING_REVIEW = "awaiting_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    ESCALATED = "escalated"
    REDRAFT_REQUESTED = "redraft_requested"
    COMMITTING = "committing"
    COMMITTED = "committed"
    AWAITING_VALIDATION = "awaiting_validation"
    VALIDATED = "validated"
    ROLLED_BACK = "rolled_back"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Workflow(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    # Cycle time of this work before AIOS (measured by the team), for the before/after KPI.
    baseline_cycle_seconds = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ReviewMode(models.TextChoices):
    AUTO = "auto", "Auto-commit (sampled validation)"
    PRE_COMMIT = "pre_commit", "Pre-commit review"
    POST_COMMIT = "post_commit", "Post-commit validation"


class WorkflowVersion(models.Model):
    """One immutable definition of a workflow. Changing a workflow makes a new version;
    items keep the version they were received with."""

    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    agent = models.CharField(max_length=64, help_text="name of the drafting agent")
    # {"draft": {"max_attempts": 3, "backoff_s": 1.0, "max_backoff_s": 60}, "commit": {...}}
    steps = models.JSONField(default=dict, blank=True)
    # {"mode": "pre_commit", "confidence_threshold": 0.8, "rules": [...], "sample_rate": 0.1}
    review_policy = models.JSONField(default=dict, blank=True)
    input_schema = models.JSONField(default=dict, blank=True)
    draft_schema = models.JSONField(default=dict, blank=True)
    # {"kind": "http", "url": "...", "timeout_s": 10} or {"kind": "demo_sink"}
    connector = models.JSONField(default=dict, blank=True)
    # Model route per step for the agent, e.g. {"draft": "default"}; see workflows.llm.
    routes = models.JSONField(default=dict, blank=True)
    self_hosted_only = models.BooleanField(default=False)
    reviewing_team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="+")
    escalation_team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    queue = models.CharField(max_length=64, default="central", help_text="Celery queue")
    sla_seconds = models.PositiveIntegerField(default=4 * 3600)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workflow.slug} v{self.number}"

    def step_policy(self, step: str) -> dict[str, Any]:
        defaults = {"max_attempts": 3, "backoff_s": 1.0, "max_backoff_s": 300.0}
        return {**defaults, **(self.steps or {}).get(step, {})}


class WorkItem(models.Model):
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="items")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="items")
    external_key = models.CharField(max_length=200)
    input = models.JSONField()
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.RECEIVED)
    priority = models.SmallIntegerField(default=0, help_text="higher first")
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="work_items")
    due_at = models.DateTimeField(null=True, blank=True)
    current_draft = models.ForeignKey(
        "Draft", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confidence = models.FloatField(null=True, blank=True)
    cost_so_far = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    # claim (the reviews side sets these through its services)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    external_ref = models.CharField(max_length=200, blank=True, help_text="id downstream")
    # failure and recovery
    failed_step = models.CharField(max_length=32, blank=True)
    last_error = models.TextField(blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    recovery_seconds = models.FloatField(null=True, blank=True)
    # stage timestamps (cycle-time KPIs come from events; these make queues cheap)
    drafted_at = models.DateTimeField(null=True, blank=True)
    review_requested_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    committed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    event_count = models.PositiveIntegerField(default=0)
    last_event_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "external_key"], name="work_item_external_key_unique"
            )
        ]
        indexes = [
            # review queues: one team, one status, sorted by each offered key then id
            models.Index(fields=["team", "status", "-priority", "id"], name="wi_queue_priority"),
            models.Index(fields=["team", "status", "due_at", "id"], name="wi_queue_due"),
            models.Index(fields=["team", "status", "confidence", "id"], name="wi_queue_conf"),
            models.Index(fields=["team", "status", "created_at", "id"], name="wi_queue_age"),
            models.Index(fields=["status", "updated_at"], name="wi_status_updated"),
            models.Index(fields=["workflow", "created_at"], name="wi_workflow_created"),
            models.Index(
                fields=["claim_expires_at"],
                name="wi_claim_expiry",
                condition=Q(claimed_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.workflow_id}:{self.external_key}"


class Draft(models.Model):
    class Author(models.TextChoices):
        AGENT = "agent"
        PERSON = "person"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="drafts")
    number = models.PositiveIntegerField()
    author_kind = models.CharField(max_length=16, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agent = models.CharField(max_length=64, blank=True)
    provider_label = models.CharField(max_length=32, blank=True, help_text="e.g. offline")
    fields = models.JSONField(default=dict)
    valid = models.BooleanField(default=True)
    validation_errors = models.JSONField(default=dict, blank=True)
    raw_output = models.TextField(blank=True)
    confidence = models.FloatField(null=True, blank=True)
    rationale = models.TextField(blank=True)
    # [{"chunk_id": 1, "document_id": 2, "title": "...", "source": "...", "text": "..."}]
    citations = models.JSONField(default=list, blank=True)
    model_call_ids = models.JSONField(default=list, blank=True)
    instruction = models.TextField(blank=True, help_text="reviewer's redraft instruction")
    cost = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["item", "number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="draft_number_unique")
        ]

    def __str__(self) -> str:
        return f"draft {self.number} of item {self.item_id}"


class StepRun(models.Model):
    """One attempt at one step of one item: the durable unit of work (see docs/engine.md)."""

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        SUCCEEDED = "succeeded"
        FAILED = "failed"
        CANCELLED = "cancelled"

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="step_runs")
    step = models.CharField(max_length=32)
    attempt = models.PositiveSmallIntegerField(default=1)
    round = models.PositiveSmallIntegerField(default=1, help_text="+1 per operator retry")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    queue = models.CharField(max_length=64, default="central")
    params = models.JSONField(default=dict, blank=True)
    available_at = models.DateTimeField(help_text="not before (backoff)")
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=16, blank=True, help_text="retryable / fatal")
    run_ms = models.FloatField(null=True, blank=True, help_text="time inside the handler")
    overhead_ms = models.FloatField(null=True, blank=True, help_text="claim + complete")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item", "id"]
        indexes = [
            models.Index(
                fields=["available_at"],
                name="steprun_pending",
                condition=Q(state="pending"),
            ),
            models.Index(
                fields=["lease_expires_at"],
                name="steprun_running",
                condition=Q(state="running"),
            ),
        ]
        constraints = [
            # at most one live attempt per item and step
            models.UniqueConstraint(
                fields=["item", "step"],
                condition=Q(state__in=["pending", "running"]),
                name="steprun_one_live_per_step",
            )
        ]

    def __str__(self) -> str:
        return f"{self.step} #{self.attempt} of item {self.item_id} ({self.state})"


class WorkItemEvent(models.Model):
    """Append-only audit event. Each stores the hash of its item's previous event."""

    item = models.ForeignKey(WorkItem, on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=32, default="transition")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, help_text="username, agent:<name> or system")
    from_status = models.CharField(max_length=32, blank=True)
    to_status = models.CharField(max_length=32)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["item", "seq"], name="event_seq_unique")]
        indexes = [
            models.Index(fields=["created_at"], name="event_created"),
            models.Index(fields=["to_status", "created_at"], name="event_to_status"),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} #{self.seq}: {self.from_status} → {self.to_status}"
