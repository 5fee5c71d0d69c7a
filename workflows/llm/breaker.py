"""One circuit breaker per provider, its state in Redis so every worker process shares it.

Built on `pybreaker` with `CircuitRedisStorage`. pybreaker's own `call()` holds a
process-wide lock for the whole guarded call, which would let only one model call per
worker process be in flight; so the gateway asks `allow()` before the HTTP call (cheap
Redis reads, no lock held while waiting for the model) and reports the outcome afterwards
through the breaker (`record_success` / `record_failure`), which keeps pybreaker's
counting and state machine: closed → open after `fail_max` consecutive failures → after
`reset_timeout` one trial (half-open) → closed on success, open again on failure.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pybreaker
import redis
from django.conf import settings
from django.utils import timezone

from workflows.llm.models import Provider

logger = logging.getLogger(__name__)

_breakers: dict[tuple[object, ...], pybreaker.CircuitBreaker] = {}
_lock = threading.Lock()
_redis_clients: dict[str, redis.Redis] = {}


@dataclass(frozen=True)
class BreakerState:
    state: str  # "closed", "open", "half-open"
    failures: int
    opened_at: datetime | None
    retry_at: datetime | None  # when an open breaker lets a trial call through

    @property
    def is_open(self) -> bool:
        return self.state == pybreaker.STATE_OPEN


def _redis() -> redis.Redis:
    url = settings.REDIS_URL
    client = _redis_clients.get(url)
    if client is None:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _redis_clients[url] = client
    return client


def _namespace(provider: Provider) -> str:
    return f"{settings.AIOS_LLM_BREAKER_NAMESPACE}:provider:{provider.pk}"


def breaker_for(provider: Provider) -> pybreaker.CircuitBreaker:
    """This process's breaker object for `provider` (its state lives in Redis)."""
    key = (_namespace(provider), provider.breaker_fail_max, provider.breaker_reset_s)
    breaker = _breakers.get(key)
    if breaker is not None:
        return breaker
    with _lock:
        breaker = _breakers.get(key)
        if breaker is None:
            try:
                storage: pybreaker.CircuitBreakerStorage = pybreaker.CircuitRedisStorage(
                    pybreaker.STATE_CLOSED, _redis(), namespace=_namespace(provider)
                )
            except redis.RedisError:
                logger.exception("Redis unavailable: breaker for %s is per-process", provider)
                storage = pybreaker.CircuitMemoryStorage(pybreaker.STATE_CLOSED)
            breaker = pybreaker.CircuitBreaker(
                fail_max=provider.breaker_fail_max,
                reset_timeout=provider.breaker_reset_s,
                state_storage=storage,
                name=provider.name,
            )
            _breakers[key] = breaker
    return breaker


def allow(provider: Provider) -> bool:
    """May a call go to `provider` now? An open breaker past its timeout turns half-open
    and lets the call through as the trial."""
    breaker = breaker_for(provider)
    if breaker.current_state != pybreaker.STATE_OPEN:
        return True
    opened_at = breaker._state_storage.opened_at
    if opened_at and timezone.now() < opened_at + timedelta(seconds=breaker.reset_timeout):
        return False
    breaker.half_open()
    return True


def _noop() -> None:
    return None


def _raise(exc: BaseException) -> None:
    raise exc


def record_success(provider: Provider) -> None:
    breaker = breaker_for(provider)
    # A slow call that succeeded after the breaker opened leaves it open.
    with contextlib.suppress(pybreaker.CircuitBreakerError):
        breaker.call(_noop)


def record_failure(provider: Provider, exc: BaseException) -> None:
    breaker = breaker_for(provider)
    try:
        breaker.call(_raise, exc)
    except pybreaker.CircuitBreakerError:
        logger.warning("circuit breaker for provider %s is open", provider.name)
    except BaseException as raised:
        if raised is not exc:
            raise


def state_of(provider: Provider) -> BreakerState:
    breaker = breaker_for(provider)
    state = breaker.current_state
    opened_at = breaker._state_storage.opened_at if state != pybreaker.STATE_CLOSED else None
    retry_at = (
        opened_at + timedelta(seconds=breaker.reset_timeout)
        if opened_at and state == pybreaker.STATE_OPEN
        else None
    )
    return BreakerState(
        state=state, failures=breaker.fail_counter, opened_at=opened_at, retry_at=retry_at
    )


def close(provider: Provider) -> None:
    """Close the breaker by hand (an admin who knows the provider is back)."""
    breaker_for(provider).close()
