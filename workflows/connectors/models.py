from __future__ import annotations

from django.db import models


class DemoSinkRecord(models.Model):
    """What the built-in demo sink received: stands in for a CRM/ERP in demos and tests.

    Unique on the idempotency key, like a real downstream that dedupes repeated requests.
    """

    class Action(models.TextChoices):
        COMMIT = "commit"
        ROLLBACK = "rollback"

    idempotency_key = models.CharField(max_length=64, unique=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    item_id = models.BigIntegerField(db_index=True)
    payload = models.JSONField(default=dict)
    repeats = models.PositiveIntegerField(default=0, help_text="requests after the first")
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.action} of item {self.item_id}"

    @property
    def external_id(self) -> str:
        return f"sink-{self.action}-{self.pk}"
