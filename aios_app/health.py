"""Readiness checks: database, Redis, and at least one live Celery worker.

Workers announce themselves with a heartbeat key in Redis (see `worker_heartbeat.py`);
reading keys is instant, unlike a broadcast ping that waits for its timeout.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import redis
from django.conf import settings
from django.db import connection

HEARTBEAT_PREFIX = "aios:worker:"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


_clients: dict[tuple[str, float], redis.Redis] = {}


def redis_client(url: str | None = None) -> redis.Redis:
    """A shared client (and connection pool) per URL and timeout: redis-py clients are
    thread-safe, and a new one per call would open a new connection per call."""
    key = (url or settings.REDIS_URL, float(settings.AIOS_READY_WORKER_TIMEOUT))
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = redis.Redis.from_url(
            key[0], socket_connect_timeout=key[1], socket_timeout=key[1]
        )
    return client


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any driver error means "not ready"
        return Check("database", False, type(exc).__name__)
    return Check("database", True, "ok")


def live_workers(client: redis.Redis) -> list[dict[str, object]]:
    keys = sorted(client.scan_iter(match=HEARTBEAT_PREFIX + "*", count=100))
    values = client.mget(keys) if keys else []
    return [json.loads(v) for v in values if v]


def check_redis_and_workers() -> list[Check]:
    client = redis_client()
    try:
        client.ping()
    except redis.RedisError as exc:
        return [
            Check("redis", False, type(exc).__name__),
            Check("worker", False, "unknown: redis unreachable"),
        ]
    workers = live_workers(client)
    worker = Check("worker", bool(workers), f"{len(workers)} live" if workers else "none live")
    return [Check("redis", True, "ok"), worker]


def readiness() -> list[Check]:
    return [check_database(), *check_redis_and_workers()]
