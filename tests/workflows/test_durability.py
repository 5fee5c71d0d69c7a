"""Real worker processes, real Redis: kill -9 a worker mid-run, lose the broker's messages.

The sweeper runs in the test process (the same function Celery beat calls every few
seconds in production) so the test controls its pace.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings

from aios_app import embedded
from tests.support import process_env
from tests.workflows.conftest import make_workflow
from workflows.connectors.fake_downstream import Downstream
from workflows.models import Draft, StepRun, WorkItem, WorkItemEvent
from workflows.services import work_item_intake
from workflows.steps import steps_sweep

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]


def _worker_env() -> dict[str, str]:
    return process_env(AIOS_STEP_LEASE_SECONDS="4", LOG_LEVEL="WARNING")


@pytest.fixture
def start_worker() -> Iterator[Callable[[str], subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(queue: str) -> subprocess.Popen[bytes]:
        log = open(Path(settings.DATA_DIR) / f"worker-{queue}-{len(started)}.log", "wb")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "manage.py", "run_worker", "--queues", queue, "--concurrency", "32",
             "--loglevel", "WARNING", "--hostname", f"{queue}-{len(started)}@test"],
            cwd=ROOT,
            env=_worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        started.append(proc)
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def _submit(n: int, prefix: str, sleep_s: float) -> list[int]:
    ids = []
    for i in range(n):
        item, _ = work_item_intake(
            workflow="crash",
            external_key=f"{prefix}-{i}",
            input={"customer": f"c{i}", "amount": i, "_sleep_s": sleep_s},
        )
        ids.append(item.pk)
    return ids


def _wait_until(predicate: Callable[[], bool], *, timeout: float, sweep: bool = True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if sweep:
            steps_sweep()
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def _committed(ids: list[int]) -> int:
    return WorkItem.objects.filter(pk__in=ids, status="committed").count()


def _assert_exactly_once(ids: list[int], downstream: Downstream) -> None:
    assert _committed(ids) == len(ids)
    # each item drafted once and committed once, downstream applied each key once
    assert Draft.objects.filter(item_id__in=ids).count() == len(ids)
    assert WorkItemEvent.objects.filter(item_id__in=ids, to_status="committed").count() == len(ids)
    assert len(downstream.commits()) == len(ids)


def test_worker_killed_mid_run_loses_nothing_and_commits_nothing_twice(
    team, downstream, start_worker, settings
):
    # given 200 items whose drafting takes a while, and one worker on their queue
    settings.AIOS_REDISPATCH_SECONDS = 2
    queue = f"crash-{uuid.uuid4().hex[:8]}"
    make_workflow(team, downstream.url, slug="crash", queue=queue)
    ids = _submit(200, "kill", sleep_s=0.3)
    first = start_worker(queue)
    # when the worker is killed -9 while steps are running
    _wait_until(lambda: _committed(ids) >= 40, timeout=90, sweep=False)
    assert StepRun.objects.filter(item_id__in=ids, state="running").exists()
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    killed_at = _committed(ids)
    # and a new worker starts
    start_worker(queue)
    # then every item reaches its final state, none twice
    _wait_until(lambda: _committed(ids) == len(ids), timeout=150)
    assert killed_at < len(ids)
    _assert_exactly_once(ids, downstream)
    # the commits interrupted mid-flight were re-sent with the same key, applied once
    assert sum(downstream.requests.values()) >= len(ids)


def test_broker_restart_losing_messages_is_recovered_by_the_sweeper(
    team, downstream, start_worker, settings
):
    # given a worker busy with 100 items
    settings.AIOS_REDISPATCH_SECONDS = 2
    queue = f"loss-{uuid.uuid4().hex[:8]}"
    make_workflow(team, downstream.url, slug="crash", queue=queue)
    ids = _submit(100, "loss", sleep_s=0.2)
    start_worker(queue)
    _wait_until(lambda: _committed(ids) >= 10, timeout=90, sweep=False)
    # when Redis restarts having lost every queued message
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()  # db 0: the broker's queues
    embedded.stop_redis(settings.DATA_DIR)
    time.sleep(1)
    embedded.redis_url(settings.DATA_DIR)
    # then the sweeper re-sends what was lost and everything completes exactly once
    _wait_until(lambda: _committed(ids) == len(ids), timeout=150)
    _assert_exactly_once(ids, downstream)
