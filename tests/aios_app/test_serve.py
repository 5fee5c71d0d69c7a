"""The web process of `make run` (uvicorn, several worker processes) serves pages, static
files and the reviewer socket: started for real, as the Procfile starts it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from aios_app.serve import default_web_workers
from tests.support import process_env, session_cookie, stop_process

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def web() -> Iterator[str]:
    port = _free_port()
    env = process_env(AIOS_HOST="127.0.0.1", AIOS_PORT=str(port), WEB_CONCURRENCY="2")
    env.update(LOG_LEVEL="WARNING", DJANGO_SETTINGS_MODULE="aios_app.settings")
    proc = subprocess.Popen(
        [sys.executable, "-m", "aios_app.serve"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                output = proc.stdout.read().decode() if proc.stdout else ""
                pytest.fail(f"web process did not come up:\n{output[-3000:]}")
            time.sleep(0.2)
        yield base
    finally:
        stop_process(proc)


def test_default_worker_count_follows_the_environment(monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    assert default_web_workers() == 3
    monkeypatch.setenv("WEB_CONCURRENCY", "zero")
    assert 2 <= default_web_workers() <= 8


def test_web_process_serves_pages_static_files_and_the_socket(web, reviewer):
    # pages: the login page renders; a queue needs a login
    assert httpx.get(f"{web}/login/").status_code == 200
    assert httpx.get(f"{web}/reviews/").status_code == 302
    # static files come from the app itself (no CDN)
    static = httpx.get(f"{web}/static/js/reviews.js")
    assert static.status_code == 200
    assert "WebSocket" in static.text
    ws_url = web.replace("http", "ws") + "/ws/reviews/"
    # an anonymous socket is refused
    with pytest.raises(InvalidStatus):
        connect(ws_url, origin=web, open_timeout=10).close()
    # a reviewer's socket says hello with the reviewer's teams
    cookie = session_cookie(reviewer)
    with connect(
        ws_url, origin=web, additional_headers={"Cookie": f"sessionid={cookie}"}, open_timeout=10
    ) as ws:
        hello = json.loads(ws.recv(timeout=10))
    assert hello["type"] == "hello"
    assert hello["teams"] == [reviewer.teams.get().pk]
