"""Errors of the model plane. All derive from `ModelGatewayError`.

`generate_structured` does not raise for a model that answers badly (it returns
`valid=False` with the raw output); it raises for a call that must not or cannot be made.
"""

from __future__ import annotations


class ModelGatewayError(Exception):
    """Base of every error the gateway raises."""

    http_status = 400


class RouteNotFound(ModelGatewayError):
    http_status = 404


class TemplateNotFound(ModelGatewayError):
    http_status = 404


class EgressRefused(ModelGatewayError):
    """The workflow is restricted to self-hosted routes and this route (or a fallback it
    could land on) is managed. Raised before anything is sent."""

    http_status = 422

    def __init__(self, *, route: str, offending_route: str, provider: str) -> None:
        super().__init__(
            f"route {route!r} is not allowed for a workflow restricted to self-hosted models: "
            f"route {offending_route!r} (provider {provider!r}) is managed, so data would "
            "leave for a vendor's cloud. Point the step at a self-hosted route, or remove the "
            "managed fallback."
        )
        self.route = route
        self.offending_route = offending_route
        self.provider = provider


class ModelUnavailable(ModelGatewayError):
    """Every route in the chain failed (breaker open, retries exhausted, provider error).

    Transient: the engine's step retry policy decides what happens next."""

    http_status = 503

    def __init__(self, message: str, *, model_call_ids: list[int]) -> None:
        super().__init__(message)
        self.model_call_ids = model_call_ids


class OfflineHandlerMissing(ModelGatewayError):
    """An offline route was called but no Python handler is registered for its model."""


class ProviderCallError(ModelGatewayError):
    """One attempt at a provider failed (internal to the gateway's retry loop)."""

    def __init__(
        self,
        message: str,
        *,
        error_type: str,
        retryable: bool,
        retry_after_s: float | None = None,
        counts_against_breaker: bool = True,
    ) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.counts_against_breaker = counts_against_breaker
        self.attempts = 1
