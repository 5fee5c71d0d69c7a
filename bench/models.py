"""Model gateway benchmark: overhead per call, and calls in flight per worker.

    .venv/bin/python bench/models.py            # target scale
    .venv/bin/python bench/models.py --quick    # a smaller run

1. Overhead: the median time of a `generate_structured` call (route lookup, prompt render,
   breaker, openai client, validation, ledger row; cache off) against the median time of a
   bare `openai` client call with the same messages and response format, both to the same
   in-process fake server, interleaved in the same run; at 0 ms and 5 ms model latency.
The fake server runs in a child process (as a real model server would), so the worker's
interpreter lock measures only the worker's own work.

2. In flight: a pool of threads (as a Celery thread-pool worker) calls the gateway against
   a 500 ms model; achieved concurrency = total model-call time / wall time.

The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AIOS_DATA_DIR", str(ROOT / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")

import django  # noqa: E402

django.setup()

import openai  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from workflows.llm import services  # noqa: E402
from workflows.llm.gateway import generate_structured, render_messages  # noqa: E402
from workflows.llm.models import Provider, Route  # noqa: E402

SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": ["billing", "bug", "question"]},
        "priority": {"type": "integer", "minimum": 1, "maximum": 4},
        "summary": {"type": "string"},
    },
    "required": ["category", "priority", "summary"],
}
VARIABLES = {"ticket": "My invoice for March is wrong: I was charged twice for the same seat."}


class _FakeServer:
    """`python -m workflows.llm.fake_openai` in a child process, on a free port."""

    def __enter__(self) -> _FakeServer:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "workflows.llm.fake_openai", "--port", "0"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()  # "fake OpenAI server on http://…/v1"
        self.url = line.strip().rsplit(" ", 1)[-1]
        if not self.url.startswith("http"):
            raise RuntimeError(f"fake server did not start: {line!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def _setup(fake: _FakeServer) -> None:
    call_command("migrate", verbosity=0)
    provider, _ = Provider.objects.update_or_create(
        name="bench-fake",
        defaults={"kind": "compatible", "base_url": fake.url, "api_key_env": ""},
    )
    for name, model in (("bench-0ms", "fake-json"), ("bench-5ms", "fake-json+5ms"),
                        ("bench-500ms", "fake-json+500ms")):  # fmt: skip
        Route.objects.update_or_create(
            name=name,
            defaults={"provider": provider, "model": model, "egress": "self-hosted",
                      "cache_enabled": False, "timeout_s": 10, "max_attempts": 1},
        )  # fmt: skip
    services.prompt_template_save(
        name="bench-triage",
        system="Classify the support ticket.",
        user="Ticket: {{ ticket }}",
    )


def _gateway_call(route: str) -> float:
    started = time.perf_counter()
    result = generate_structured(
        route=route, template="bench-triage", variables=VARIABLES, schema=SCHEMA, step="bench"
    )
    elapsed = time.perf_counter() - started
    if not result.valid:
        raise RuntimeError(f"gateway call failed: {result.error}")
    return elapsed


def _overhead(fake: _FakeServer, route: str, model: str, n: int) -> dict[str, float]:
    client = openai.OpenAI(base_url=fake.url, api_key="unused", max_retries=0)
    template = services.prompt_template_save(
        name="bench-triage", system="Classify the support ticket.", user="Ticket: {{ ticket }}"
    )
    messages = render_messages(template, VARIABLES)
    response_format = {"type": "json_schema", "json_schema": {"name": "bench", "schema": SCHEMA}}

    def bare() -> float:
        started = time.perf_counter()
        completion = client.chat.completions.create(
            model=model, messages=messages, response_format=response_format,
            temperature=0, max_tokens=1024, timeout=10,
        )  # fmt: skip
        json.loads(completion.choices[0].message.content)
        return time.perf_counter() - started

    for _ in range(min(20, n)):  # warm up connections, caches, compiled templates
        bare()
        _gateway_call(route)
    bare_times, gateway_times = [], []
    for _ in range(n):
        bare_times.append(bare())
        gateway_times.append(_gateway_call(route))
    bare_ms = statistics.median(bare_times) * 1000
    gateway_ms = statistics.median(gateway_times) * 1000
    return {"bare_ms": bare_ms, "gateway_ms": gateway_ms, "ratio": gateway_ms / bare_ms}


def _in_flight(threads: int, calls: int) -> dict[str, float]:
    def one(_: int) -> float:
        try:
            return _gateway_call("bench-500ms")
        finally:
            connection.close()  # each pool thread's own connection

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(one, range(threads)))  # warm: one connection per thread
        started = time.perf_counter()
        durations = list(pool.map(one, range(calls)))
        wall = time.perf_counter() - started
    return {
        "calls_in_flight_500ms": sum(durations) / wall,
        "calls_per_s_500ms": calls / wall,
        "call_p50_ms_500ms": statistics.median(durations) * 1000,
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller run")
    parser.add_argument("--threads", type=int, default=64)
    args = parser.parse_args()
    n = 60 if args.quick else 300
    calls = 2 * args.threads if args.quick else 10 * args.threads

    with _FakeServer() as fake:
        _setup(fake)
        zero = _overhead(fake, "bench-0ms", "fake-json", n)
        five = _overhead(fake, "bench-5ms", "fake-json+5ms", n)
        print(f"overhead, 0 ms model: bare {zero['bare_ms']:.2f} ms, "
              f"gateway {zero['gateway_ms']:.2f} ms, ratio {zero['ratio']:.2f}")  # fmt: skip
        print(f"overhead, 5 ms model: bare {five['bare_ms']:.2f} ms, "
              f"gateway {five['gateway_ms']:.2f} ms, ratio {five['ratio']:.2f}")  # fmt: skip
        flight = _in_flight(args.threads, calls)
        print(f"500 ms model, {args.threads} threads, {calls} calls: "
              f"{flight['calls_in_flight_500ms']:.1f} in flight, "
              f"{flight['calls_per_s_500ms']:.1f} calls/s")  # fmt: skip

    figures = {
        "gateway_overhead_ratio": round(zero["ratio"], 3),
        "gateway_overhead_ratio_5ms": round(five["ratio"], 3),
        "gateway_call_ms_p50": round(zero["gateway_ms"], 3),
        "bare_call_ms_p50": round(zero["bare_ms"], 3),
        "gateway_overhead_ms_p50": round(zero["gateway_ms"] - zero["bare_ms"], 3),
        "calls_in_flight_500ms": round(flight["calls_in_flight_500ms"], 1),
        "calls_per_s_500ms": round(flight["calls_per_s_500ms"], 1),
        "call_p50_ms_500ms": round(flight["call_p50_ms_500ms"], 1),
        "threads": args.threads,
        "overhead_samples": n,
        "in_flight_calls": calls,
        "quick": args.quick,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
