"""Connectors commit a work item's final result to a downstream system, exactly once.

Every call carries an idempotency key derived from item + step, so a step that runs again
(after a worker crash, a lost broker message, a retry) never applies twice downstream:
the downstream system answers a repeated key with the result it gave the first time.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from workflows.exceptions import FatalStepError, RetryableStepError


def idempotency_key(*, item_id: int, step: str) -> str:
    return hashlib.sha256(f"aios:{item_id}:{step}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class CommitResult:
    external_id: str
    response: dict[str, Any]


class Connector(Protocol):
    def commit(self, *, key: str, item_id: int, payload: dict[str, Any]) -> CommitResult: ...

    def rollback(
        self, *, key: str, item_id: int, external_id: str, reason: str
    ) -> CommitResult: ...


_clients: dict[float, httpx.Client] = {}
_clients_lock = threading.Lock()


def _client(timeout_s: float) -> httpx.Client:
    """One pooled client per timeout per process: building a client costs ~50 ms (TLS
    context), and httpx.Client is thread-safe for the worker's many threads."""
    with _clients_lock:
        client = _clients.get(timeout_s)
        if client is None:
            limits = httpx.Limits(max_connections=200, max_keepalive_connections=50)
            client = _clients[timeout_s] = httpx.Client(timeout=timeout_s, limits=limits)
        return client


class HttpConnector:
    """POSTs JSON to `<url>/commit` and `<url>/rollback` with an `Idempotency-Key` header.

    Contract: 2xx with a JSON object holding a string `id`. 429/5xx/network errors are
    retryable; other 4xx and malformed answers are fatal (a person must look).
    """

    def __init__(self, *, url: str, timeout_s: float = 10.0, headers: dict[str, str] | None = None):
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.headers = headers or {}

    def _post(self, path: str, *, key: str, body: dict[str, Any]) -> CommitResult:
        try:
            response = _client(self.timeout_s).post(
                f"{self.url}/{path}",
                json=body,
                headers={**self.headers, "Idempotency-Key": key},
            )
        except httpx.HTTPError as exc:
            raise RetryableStepError(f"connector unreachable: {type(exc).__name__}: {exc}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableStepError(f"connector answered {response.status_code}")
        if response.status_code >= 400:
            raise FatalStepError(
                f"connector refused ({response.status_code}): {response.text[:300]}"
            )
        try:
            data = response.json()
        except ValueError:
            raise FatalStepError(f"connector answered non-JSON: {response.text[:200]!r}") from None
        if not isinstance(data, dict) or not isinstance(data.get("id"), str | int):
            raise FatalStepError(f"connector answer lacks an 'id': {str(data)[:200]}")
        return CommitResult(external_id=str(data["id"]), response=data)

    def commit(self, *, key: str, item_id: int, payload: dict[str, Any]) -> CommitResult:
        return self._post("commit", key=key, body={"item_id": item_id, "payload": payload})

    def rollback(self, *, key: str, item_id: int, external_id: str, reason: str) -> CommitResult:
        body = {"item_id": item_id, "external_id": external_id, "reason": reason}
        return self._post("rollback", key=key, body=body)


def get_connector(config: dict[str, Any]) -> Connector:
    kind = config.get("kind", "")
    if kind == "http":
        return HttpConnector(url=config["url"], timeout_s=float(config.get("timeout_s", 10)))
    if kind == "demo_sink":
        from django.conf import settings

        from workflows.connectors.services import demo_sink_token

        return HttpConnector(
            url=settings.AIOS_DEMO_SINK_URL,
            timeout_s=10,
            headers={"X-Aios-Sink-Token": demo_sink_token()},
        )
    raise FatalStepError(f"no connector configured (kind={kind!r})")
