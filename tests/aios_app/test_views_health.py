import json

import pytest
import redis
from django.conf import settings
from django.test import override_settings

from aios_app.health import HEARTBEAT_PREFIX


@pytest.fixture
def worker_heartbeat():
    client = redis.Redis.from_url(settings.REDIS_URL)
    key = f"{HEARTBEAT_PREFIX}test@host"
    client.set(key, json.dumps({"hostname": "test@host", "queues": ["central"]}), ex=30)
    yield
    client.delete(key)


@pytest.fixture
def no_worker():
    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(match=HEARTBEAT_PREFIX + "*"):
        client.delete(key)


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_refuses_post(client):
    assert client.post("/healthz").status_code == 405


@pytest.mark.django_db
def test_readyz_is_ready_with_database_redis_and_a_live_worker(client, worker_heartbeat):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["failing"] == []


@pytest.mark.django_db
def test_readyz_names_missing_worker(client, no_worker):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["worker"]


@pytest.mark.django_db
def test_readyz_names_redis_when_redis_is_down(client):
    # given Redis at an address where nothing listens
    with override_settings(REDIS_URL="redis://127.0.0.1:1", AIOS_READY_WORKER_TIMEOUT=0.3):
        response = client.get("/readyz")
    # then
    assert response.status_code == 503
    body = response.json()
    assert "redis" in body["failing"]
    assert body["checks"]["database"]["ok"] is True


def test_responses_to_signed_in_users_say_how_long_the_app_took(client, reviewer):
    # anonymous visitors get no timing (it would help timing attacks on the login)
    assert "Server-Timing" not in client.get("/healthz")
    client.force_login(reviewer)
    timing = client.get("/healthz")["Server-Timing"]
    assert timing.startswith("app;dur=")
    assert float(timing.split("dur=", 1)[1]) >= 0
