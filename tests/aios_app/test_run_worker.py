"""`run_worker` supervises its Celery worker: a worker that dies is started again, and
stopping (or killing) the command stops the worker with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support import process_env

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found += [int(c) for c in text]
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _wait(predicate: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.2)


def _heartbeat_pid(name: str) -> int | None:
    import json

    from aios_app.health import HEARTBEAT_PREFIX, redis_client

    raw = redis_client().get(f"{HEARTBEAT_PREFIX}{name}")
    return json.loads(raw).get("pid") if raw else None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_dead_worker_is_started_again_and_dies_with_the_command():
    queue = f"sup-{uuid.uuid4().hex[:6]}"
    name = f"{queue}@test"
    command = subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--queues", queue, "--concurrency", "2",
         "--loglevel", "WARNING", "--hostname", name],
        cwd=ROOT, env=process_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        # given a running worker under the command
        _wait(lambda: _heartbeat_pid(name) is not None)
        first = _children(command.pid)
        assert len(first) == 1
        # when the worker process dies (as on Celery's "Unrecoverable error")
        os.kill(first[0], signal.SIGKILL)
        # then a new worker process takes its place and beats again
        _wait(lambda: _children(command.pid) not in ([], first))
        second = _children(command.pid)
        _wait(lambda: _heartbeat_pid(name) == second[0])
        # and killing the command (kill -9) takes the worker with it
        command.kill()
        command.wait(timeout=10)
        _wait(lambda: not _alive(second[0]), timeout=10)
    finally:
        if command.poll() is None:
            command.kill()
