"""Human-in-the-loop records: review sessions (time per review), comments, notifications,
and SLA breaches. Work-item state itself lives in `workflows` and changes only through
`workflows.lifecycle`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from workflows.models import WorkItem


class ReviewSession(models.Model):
    """One reviewer's time with one item: opened → decided, idle gaps left out.

    `active_seconds` grows with activity pings from the item page; a gap between two
    pings longer than AIOS_REVIEW_IDLE_SECONDS counts as idle and adds nothing.
    """

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="review_sessions")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_sessions"
    )
    opened_at = models.DateTimeField()
    last_activity_at = models.DateTimeField()
    active_seconds = models.FloatField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-opened_at"]
        indexes = [
            models.Index(
                fields=["item", "reviewer"],
                name="review_session_open",
                condition=Q(decided_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer_id} on #{self.item_id}"


class Comment(models.Model):
    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    mentions = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["item", "id"]

    def __str__(self) -> str:
        return f"comment {self.pk} on #{self.item_id}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        MENTION = "mention"
        SLA_BREACHED = "sla_breached"
        ESCALATED = "escalated"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    item = models.ForeignKey(
        WorkItem, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.CharField(max_length=300)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "-id"], name="notification_user")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


class SlaBreach(models.Model):
    """An item found past its due time. One per (item, due time): an escalation sets a
    new due time, which may be breached again."""

    item = models.ForeignKey(WorkItem, on_delete=models.CASCADE, related_name="sla_breaches")
    due_at = models.DateTimeField()
    status = models.CharField(max_length=32)
    escalated = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "due_at"], name="sla_breach_once_per_due")
        ]

    def __str__(self) -> str:
        return f"#{self.item_id} past {self.due_at:%Y-%m-%d %H:%M}"
