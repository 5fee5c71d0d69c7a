from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from workflows.connectors.models import DemoSinkRecord


def demo_sink_token() -> str:
    """Shared secret between the demo-sink connector and endpoint (derived, never stored)."""
    return hmac.new(settings.SECRET_KEY.encode(), b"aios-demo-sink", hashlib.sha256).hexdigest()


@transaction.atomic
def demo_sink_receive(
    *, action: str, idempotency_key: str, item_id: int, payload: dict[str, Any]
) -> DemoSinkRecord:
    """Record a commit/rollback once per key; a repeat returns the first record."""
    record, created = DemoSinkRecord.objects.get_or_create(
        idempotency_key=idempotency_key,
        defaults={"action": action, "item_id": item_id, "payload": payload},
    )
    if not created:
        DemoSinkRecord.objects.filter(pk=record.pk).update(repeats=F("repeats") + 1)
    return record
