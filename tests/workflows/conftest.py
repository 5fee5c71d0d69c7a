"""Engine fixtures: a workflow with an `echo` agent and a downstream fake HTTP system."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from aios_app.models import Team
from workflows.models import StepRun, Workflow, WorkflowVersion, WorkItem
from workflows.services import workflow_version_create
from workflows.steps import step_run_execute

INPUT_SCHEMA = {
    "type": "object",
    "required": ["customer", "amount"],
    "properties": {
        "customer": {"type": "string", "minLength": 1},
        "amount": {"type": "number", "minimum": 0},
    },
}


class Downstream:
    """A fake CRM/ERP: applies each idempotency key once, counts every request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.applied: dict[str, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        self.fail_next: list[int] = []  # status codes to answer before succeeding
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        downstream = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                with downstream.lock:
                    downstream.requests[key] += 1
                    status = downstream.fail_next.pop(0) if downstream.fail_next else 200
                    if status == 200 and key not in downstream.applied:
                        downstream.applied[key] = {"path": self.path, **body}
                answer = {"id": f"ext-{key[:8]}"} if status == 200 else {"error": "busy"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def commits(self) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.applied.items() if v["path"].endswith("/commit")}

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def downstream() -> Iterator[Downstream]:
    server = Downstream()
    yield server
    server.close()


def make_workflow(
    team: Team,
    downstream_url: str,
    *,
    slug: str = "quotes",
    policy: dict[str, Any] | None = None,
    steps: dict[str, Any] | None = None,
    queue: str = "central",
    escalation_team: Team | None = None,
) -> WorkflowVersion:
    workflow = Workflow.objects.create(slug=slug, name=slug.title())
    return workflow_version_create(
        workflow=workflow,
        agent="echo",
        reviewing_team=team,
        escalation_team=escalation_team,
        review_policy=policy or {"mode": "auto"},
        input_schema=INPUT_SCHEMA,
        connector={"kind": "http", "url": downstream_url, "timeout_s": 5},
        steps=steps or {"draft": {"backoff_s": 0.01}, "commit": {"backoff_s": 0.01}},
        queue=queue,
    )


@pytest.fixture
def auto_version(team: Team, downstream: Downstream) -> WorkflowVersion:
    return make_workflow(team, downstream.url)


def run_due_steps(item: WorkItem, *, max_rounds: int = 50) -> WorkItem:
    """Drive an item's steps in this process until none is due (no worker needed)."""
    import time

    for _ in range(max_rounds):
        pending = StepRun.objects.filter(item=item, state=StepRun.State.PENDING).first()
        if pending is None:
            break
        wait = pending.available_at.timestamp() - time.time()
        if wait > 0:
            time.sleep(min(wait, 2))
        step_run_execute(step_run_id=pending.pk)
    item.refresh_from_db()
    return item
