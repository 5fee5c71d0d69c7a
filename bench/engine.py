"""Engine benchmark: end-to-end items/s with one real worker, step overhead, Celery baseline.

    .venv/bin/python bench/engine.py            # target scale (2000 / 1000 items)
    .venv/bin/python bench/engine.py --quick    # a smaller run

1. Items/s, instant model: N items through intake → draft (echo agent) → auto policy →
   commit (HTTP connector to a local fake CRM), one worker process (threads pool, 64).
2. Items/s, 500 ms model: the same with the `model_echo` agent, whose draft is one
   structured call through the model gateway to the fake OpenAI server answering after
   500 ms (a child process, like a real model server).
3. Orchestration overhead per step (claim + complete, model time excluded), P50/P95:
   `step_overhead_ms_*` with items run one at a time in this process (the engine's own
   cost), `step_overhead_saturated_ms_*` from the StepRun rows of run 1 (64 threads busy:
   mostly waiting for the GIL and the database).
4. Raw Celery throughput: no-op tasks (a Redis INCR) through the same broker and worker
   kind, for the ratio.

Runs against its own embedded services under .data/bench (AIOS_DATA_DIR). The last line is
one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AIOS_DATA_DIR", str(ROOT / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from aios_app.celery import noop_count  # noqa: E402
from aios_app.health import redis_client  # noqa: E402
from aios_app.models import Team  # noqa: E402
from workflows.connectors.fake_downstream import Downstream  # noqa: E402
from workflows.models import StepRun, Workflow, WorkItem  # noqa: E402
from workflows.services import work_item_intake, workflow_version_create  # noqa: E402
from workflows.steps import steps_sweep  # noqa: E402


def _database_url() -> str:
    db = settings.DATABASES["default"]
    return f"postgresql://{db['USER']}:{db['PASSWORD'] or ''}@/{db['NAME']}?host={db['HOST']}"


def start_worker(queue: str, concurrency: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "run_worker", "--queues", queue, "--concurrency",
         str(concurrency), "--loglevel", "WARNING", "--hostname", f"bench-{queue}@%h"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def wait_worker_ready(queue: str, timeout: float = 60) -> None:
    """A worker is ready when its heartbeat key appears (the bootstep starts with the pool)."""
    deadline = time.monotonic() + timeout
    client = redis_client()
    while time.monotonic() < deadline:
        for _key in client.scan_iter(match=f"aios:worker:bench-{queue}@*"):
            return
        time.sleep(0.2)
    raise RuntimeError("worker did not start")


def run_items(*, slug: str, agent: str, n: int, item_input: dict, routes: dict, team: Team,
              downstream: Downstream, concurrency: int) -> tuple[float, list[int]]:  # fmt: skip
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    workflow, _ = Workflow.objects.get_or_create(slug=slug, defaults={"name": slug})
    workflow_version_create(
        workflow=workflow,
        agent=agent,
        reviewing_team=team,
        review_policy={"mode": "auto"},
        connector={"kind": "http", "url": downstream.url, "timeout_s": 10},
        routes=routes,
        queue=queue,
    )
    worker = start_worker(queue, concurrency)
    try:
        wait_worker_ready(queue)
        started = time.perf_counter()
        ids = []
        run_id = uuid.uuid4().hex[:6]
        for i in range(n):
            item, _ = work_item_intake(
                workflow=workflow, external_key=f"{run_id}-{i}", input={**item_input, "n": i}
            )
            ids.append(item.pk)
        deadline = time.monotonic() + max(120, n / 5)
        last_sweep = time.monotonic()
        while True:
            done = WorkItem.objects.filter(pk__in=ids, status="committed").count()
            if done == n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {done}/{n} items committed in time")
            if time.monotonic() - last_sweep > 5:
                steps_sweep()
                last_sweep = time.monotonic()
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
    finally:
        stop(worker)
    return n / elapsed, ids


def sequential_overheads(*, n: int, team: Team, downstream: Downstream) -> list[float]:
    """Claim + complete per step with nothing else running: items one at a time, each step
    run in this process (no broker hop), so the figure is the engine's own cost rather than
    time spent waiting for the GIL or the database behind 63 other threads."""
    from workflows import steps

    workflow, _ = Workflow.objects.get_or_create(slug="bench-seq", defaults={"name": "seq"})
    workflow_version_create(
        workflow=workflow, agent="echo", reviewing_team=team, review_policy={"mode": "auto"},
        connector={"kind": "http", "url": downstream.url, "timeout_s": 10},
        queue=f"bench-seq-{uuid.uuid4().hex[:6]}",  # no worker listens: we run the steps
    )  # fmt: skip
    run_id = uuid.uuid4().hex[:6]
    ids = []
    for i in range(n):
        item, _ = work_item_intake(
            workflow=workflow, external_key=f"{run_id}-{i}", input={"customer": "x", "n": i}
        )
        ids.append(item.pk)
        for step in ("draft", "commit"):
            run = StepRun.objects.get(item=item, step=step, state="pending")
            steps.step_run_execute(step_run_id=run.pk)
    return list(
        StepRun.objects.filter(item_id__in=ids, state="succeeded").values_list(
            "overhead_ms", flat=True
        )
    )


def celery_noop_rate(n: int, concurrency: int) -> float:
    queue = f"bench-noop-{uuid.uuid4().hex[:6]}"
    worker = start_worker(queue, concurrency)
    key = f"aios:bench:noop:{queue}"
    client = redis_client()
    try:
        wait_worker_ready(queue)
        started = time.perf_counter()
        for _ in range(n):
            noop_count.apply_async(args=[key], queue=queue)
        while int(client.get(key) or 0) < n:
            time.sleep(0.01)
        return n / (time.perf_counter() - started)
    finally:
        stop(worker)
        client.delete(key)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:  # warm shutdown still draining: the figures are in
        proc.kill()
        proc.wait(timeout=15)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller run (300/200 items)")
    parser.add_argument("--items", type=int, default=None, help="items for the instant run")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    n_instant = args.items or (300 if args.quick else 2000)
    n_slow = max(100, n_instant // 2) if not args.quick else 200

    call_command("migrate", verbosity=0)
    from workflows.llm.fake_openai import FakeOpenAI
    from workflows.llm.models import Provider, Route

    team, _ = Team.objects.get_or_create(slug="bench", defaults={"name": "Bench"})
    downstream = Downstream()
    server = FakeOpenAI(latency_s=0.0).start()
    try:
        provider, _ = Provider.objects.update_or_create(
            name="bench-fake", defaults={"kind": "compatible", "base_url": server.url}
        )
        Route.objects.update_or_create(
            name="bench-500ms",
            defaults={"provider": provider, "model": "fake-json+500ms", "timeout_s": 10,
                      "cache_enabled": False, "egress": "self-hosted"},
        )  # fmt: skip

        print(f"instant model: {n_instant} items, one worker, {args.concurrency} threads ...")
        rate_instant, ids = run_items(
            slug="bench-instant", agent="echo", n=n_instant, item_input={"customer": "x"},
            routes={}, team=team, downstream=downstream, concurrency=args.concurrency,
        )  # fmt: skip
        saturated = list(
            StepRun.objects.filter(item_id__in=ids, state="succeeded").values_list(
                "overhead_ms", flat=True
            )
        )
        print(f"  {rate_instant:.1f} items/s")
        n_seq = 50 if args.quick else 200
        print(f"step overhead, one item at a time: {n_seq} items ...")
        overheads = sequential_overheads(n=n_seq, team=team, downstream=downstream)
        print(f"  P50 {statistics.median(overheads):.1f} ms")
        print(f"500 ms model: {n_slow} items ...")
        rate_slow, _ = run_items(
            slug="bench-500ms", agent="model_echo", n=n_slow, item_input={"customer": "x"},
            routes={"draft": "bench-500ms"}, team=team, downstream=downstream,
            concurrency=args.concurrency,
        )  # fmt: skip
        print(f"  {rate_slow:.1f} items/s")
        n_noop = 2000 if args.quick else 10000
        print(f"celery no-op baseline: {n_noop} tasks ...")
        noop = celery_noop_rate(n_noop, args.concurrency)
        print(f"  {noop:.0f} tasks/s")
    finally:
        downstream.close()
        server.stop()
    result = {
        "items_instant": n_instant,
        "items_500ms": n_slow,
        "items_per_s_instant": round(rate_instant, 1),
        "items_per_s_500ms": round(rate_slow, 1),
        "step_overhead_ms_p50": round(statistics.median(overheads), 2),
        "step_overhead_ms_p95": round(percentile(overheads, 0.95), 2),
        "step_overhead_saturated_ms_p50": round(statistics.median(saturated), 2),
        "step_overhead_saturated_ms_p95": round(percentile(saturated, 0.95), 2),
        "celery_noop_tasks_per_s": round(noop, 0),
        "steps_per_item": 2,
        "worker_concurrency": args.concurrency,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
