"""Built-in agents that need no model: `echo` (tests, benchmarks, smoke runs)."""

from __future__ import annotations

import time

from workflows.agents.base import DraftRequest, DraftResult, register
from workflows.exceptions import FatalStepError, RetryableStepError


class EchoAgent:
    """Drafts the input back as fields. Test knobs in the input (never in real data):
    `_sleep_s` (simulated model time), `_fail_attempts` (retryable failures before
    success), `_fatal` (a fatal error), `_confidence`."""

    name = "echo"

    def draft(self, request: DraftRequest) -> DraftResult:
        data = request.input
        if data.get("_sleep_s"):
            time.sleep(float(data["_sleep_s"]))
        if data.get("_fatal"):
            raise FatalStepError(str(data["_fatal"]))
        if request.attempt <= int(data.get("_fail_attempts", 0)):
            raise RetryableStepError(f"simulated transient failure (attempt {request.attempt})")
        fields = {k: v for k, v in data.items() if not k.startswith("_")}
        if request.instruction:
            fields["instruction"] = request.instruction
        return DraftResult(
            fields=fields,
            confidence=float(data.get("_confidence", 0.9)),
            rationale="echo agent: the input, unchanged",
            provider_label="none",
        )


register(EchoAgent())

# The demo agents register themselves on import (sales quoting, reconciliation, triage).
from workflows.agents import reconciliation, sales, triage  # noqa: E402, F401
