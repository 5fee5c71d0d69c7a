"""Domain errors of the control plane. Views turn them into 4xx responses."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user or caller can cause and be told about."""

    http_status = 400


class IllegalTransition(DomainError):
    http_status = 409

    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"a work item cannot go from {from_status!r} to {to_status!r}")
        self.from_status = from_status
        self.to_status = to_status


class AlreadyDecided(DomainError):
    """Someone else changed the item first (the caller should show the fresh state)."""

    http_status = 409


class InvalidInput(DomainError):
    """Input that does not match a schema. `errors` maps a field path to its message."""

    http_status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        listed = "; ".join(f"{path}: {message}" for path, message in sorted(errors.items()))
        super().__init__(f"invalid input: {listed}")
        self.errors = errors


class WorkflowNotFound(DomainError):
    http_status = 404


class StepError(Exception):
    """Raised by a step; `retryable` decides between a retry and failing the item."""

    retryable = True


class RetryableStepError(StepError):
    retryable = True


class FatalStepError(StepError):
    retryable = False
