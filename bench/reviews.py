"""Reviews benchmark: queue page and approve latency with N items stored, and live-update
latency (decision committed → event received by another socket client).

    .venv/bin/python bench/reviews.py             # target scale: 1,000,000 items
    .venv/bin/python bench/reviews.py --quick     # 50,000 items
    .venv/bin/python bench/reviews.py --items 200000

Items are bulk-inserted with COPY (5 % waiting for review, split over two teams; the rest
closed), then the web process of `make run` (uvicorn, WEB_CONCURRENCY processes as there;
--workers overrides) serves the full ASGI app on loopback. This process is the load: threads
with keep-alive HTTP clients and a logged-in session cookie request the queue page and POST
approvals (fresh awaiting_review items), while a raw WebSocket client, logged in as a
teammate, records when each approval's event arrives.
Client latency is what a load thread saw; "server side" is the app's own time from the
`Server-Timing` header (the reviewer-action budget is a server-side figure).
Live latency = arrival time − the event's created_at (same host clock; the event row is
written just before its transaction commits, so this slightly overstates it).

Runs against its own embedded services under .data/bench (AIOS_DATA_DIR); items from an
earlier run are reused. The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("AIOS_DATA_DIR", str(ROOT / ".data" / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from aios_app.models import Team  # noqa: E402
from aios_app.roles import ensure_role_groups  # noqa: E402
from aios_app.serve import default_web_workers  # noqa: E402
from tests.support import session_cookie, stop_process  # noqa: E402
from workflows.models import Workflow, WorkItem, WorkItemEvent  # noqa: E402
from workflows.services import workflow_version_create  # noqa: E402

SLUG = "bench-reviews"
COLUMNS = (
    "version_id", "workflow_id", "external_key", "input", "status", "priority", "team_id",
    "due_at", "confidence", "cost_so_far", "external_ref", "failed_step", "last_error",
    "event_count", "last_event_hash", "created_at", "updated_at", "review_requested_at",
)  # fmt: skip
CLOSED = ("committed", "validated", "rejected", "committed")


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def setup(items: int) -> tuple[Team, User, User]:
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)  # manifest for DEBUG=0
    ensure_role_groups()
    team_a, _ = Team.objects.get_or_create(slug="bench-a", defaults={"name": "Bench A"})
    team_b, _ = Team.objects.get_or_create(slug="bench-b", defaults={"name": "Bench B"})
    users = []
    for name in ("bench-alice", "bench-bob"):
        user, created = User.objects.get_or_create(username=name)
        if created:
            user.set_password("bench-password-1")
            user.save()
        user.groups.add(Group.objects.get(name="Reviewer"))
        team_a.members.add(user)
        users.append(user)
    workflow, created = Workflow.objects.get_or_create(slug=SLUG, defaults={"name": "Bench"})
    version = workflow.versions.order_by("-number").first() or workflow_version_create(
        workflow=workflow,
        agent="echo",
        reviewing_team=team_a,
        review_policy={"mode": "pre_commit"},
        connector={"kind": "demo_sink"},
    )
    have = WorkItem.objects.filter(workflow=workflow).count()
    if have < items:
        insert(version, team_a, team_b, start=have, count=items - have)
    return team_a, users[0], users[1]


def insert(version, team_a: Team, team_b: Team, *, start: int, count: int) -> None:
    started = time.perf_counter()
    now = timezone.now()
    with connection.cursor() as cur:
        sql = f"COPY workflows_workitem ({', '.join(COLUMNS)}) FROM STDIN"
        with cur.cursor.copy(sql) as copy:
            for n in range(start, start + count):
                waiting = n % 20 == 0  # 5 % waiting for review
                team = team_a if (n // 20) % 2 == 0 else team_b
                created = now - timedelta(seconds=(start + count - n))
                copy.write_row(
                    (
                        version.pk, version.workflow_id, f"B-{n}",
                        json.dumps({"customer": f"Customer {n}", "amount": n % 1000}),
                        "awaiting_review" if waiting else CLOSED[n % 4],
                        n % 5, team.pk,
                        created + timedelta(hours=4), round(0.5 + (n % 50) / 100, 2),
                        0, "", "", "", 0, "", created, created,
                        created if waiting else None,
                    )
                )  # fmt: skip
    with connection.cursor() as cur:  # autocommit: VACUUM cannot run in a transaction
        # Now, not by autovacuum in the middle of the measured phases (it would be, after
        # a million new rows): visibility map for index-only scans, fresh statistics.
        cur.execute("VACUUM (ANALYZE) workflows_workitem")
    print(f"inserted {count:,} items in {time.perf_counter() - started:.1f}s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "AIOS_HTTPS": "0",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "AIOS_HOST": "127.0.0.1",
        "AIOS_PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "aios_app.serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(os.environ["AIOS_DATA_DIR"]) / "bench-reviews-web.log", "w"),  # noqa: SIM115
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("web server did not start (see bench-reviews-web.log in AIOS_DATA_DIR)")


class WsClient:
    """A minimal RFC 6455 client (text frames) on a raw socket: no extra dependency."""

    def __init__(self, port: int, cookie: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET /ws/reviews/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: http://127.0.0.1:{port}\r\nCookie: sessionid={cookie}\r\n\r\n"
        )
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"websocket refused: {head[:200]!r}")
        self.received: list[tuple[float, dict]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _send(self, opcode: int, payload: bytes) -> None:
        """One masked frame (clients must mask); payloads here are short (< 126 bytes)."""
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked)

    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _read(self) -> None:
        try:
            while True:
                b1, b2 = self._exact(2)
                length = b2 & 0x7F
                if length == 126:
                    length = int.from_bytes(self._exact(2), "big")
                elif length == 127:
                    length = int.from_bytes(self._exact(8), "big")
                payload = self._exact(length)
                opcode = b1 & 0x0F
                if opcode == 1:
                    self.received.append((time.time(), json.loads(payload)))
                elif opcode == 9:  # ping: answer, or the server closes an idle-looking socket
                    self._send(10, payload)
                elif opcode == 8:
                    return
        except (ConnectionError, OSError):
            return


def timed(client: httpx.Client, method: str, url: str, **kw) -> tuple[float, float]:
    """(latency the client saw, the app's own time from its Server-Timing header), ms."""
    started = time.perf_counter()
    response = client.request(method, url, **kw)
    elapsed = (time.perf_counter() - started) * 1e3
    if response.status_code >= 400:
        raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:300]}")
    timing = response.headers.get("server-timing", "")
    server = float(timing.split("dur=", 1)[1].split(",", 1)[0]) if "dur=" in timing else 0.0
    return elapsed, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="50,000 items, fewer requests")
    parser.add_argument("--requests", type=int, default=400, help="per measured phase")
    parser.add_argument("--threads", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--workers", type=int, default=0, help="web server processes (default: as make run)"
    )
    args = parser.parse_args()
    items = 50_000 if args.quick and args.items == 1_000_000 else args.items
    requests = min(args.requests, 200) if args.quick else args.requests

    team, alice, bob = setup(items)
    stored = WorkItem.objects.count()
    waiting = WorkItem.objects.filter(team=team, status="awaiting_review").count()
    print(f"{stored:,} items stored; {waiting:,} awaiting review in {team.name}")
    port = free_port()
    server = start_server(port, args.workers or default_web_workers())
    base = f"http://127.0.0.1:{port}"
    csrf = "b" * 32
    cookies = {"sessionid": session_cookie(alice), "csrftoken": csrf}
    try:
        ws = WsClient(port, session_cookie(bob))
        local = threading.local()

        def client() -> httpx.Client:
            if not hasattr(local, "client"):
                local.client = httpx.Client(base_url=base, cookies=cookies, timeout=30)
            return local.client

        queue_url = f"/reviews/?team={team.pk}&size=50"
        first = client().get(queue_url).text
        cursor_at = first.find("after=")
        deep = first[cursor_at:].split('"', 1)[0].replace("&amp;", "&") if cursor_at > 0 else ""
        urls = [queue_url, f"{queue_url}&sort=due", f"{queue_url}&sort=-confidence"]
        if deep:
            urls.append(f"{queue_url}&{deep}")
        with ThreadPoolExecutor(args.threads) as pool:
            list(pool.map(lambda u: timed(client(), "GET", u), urls * 3))  # warm up
            queue_timed = list(
                pool.map(lambda i: timed(client(), "GET", urls[i % len(urls)]), range(requests))
            )
        queue_ms, queue_server_ms = [t for t, _ in queue_timed], [s for _, s in queue_timed]
        print(f"queue page: P50 {pct(queue_ms, 0.5)} ms, P95 {pct(queue_ms, 0.95)} ms")
        print(f"  server side: P50 {pct(queue_server_ms, 0.5)}, P95 {pct(queue_server_ms, 0.95)}")

        fresh = list(
            WorkItem.objects.filter(team=team, status="awaiting_review", claimed_by=None)
            .order_by("-id")
            .values_list("pk", flat=True)[:requests]
        )
        started_at = time.time()

        def approve(pk: int) -> tuple[float, float]:
            return timed(
                client(),
                "POST",
                f"/reviews/items/{pk}/approve/",
                data={"queue": f"team={team.pk}"},
                headers={"X-CSRFToken": csrf},
            )

        with ThreadPoolExecutor(args.threads) as pool:
            approve_timed = list(pool.map(approve, fresh))
        approve_ms = [t for t, _ in approve_timed]
        approve_server_ms = [s for _, s in approve_timed]
        print(f"approve: P50 {pct(approve_ms, 0.5)} ms, P95 {pct(approve_ms, 0.95)} ms")
        p50, p95 = pct(approve_server_ms, 0.5), pct(approve_server_ms, 0.95)
        print(f"  server side: P50 {p50}, P95 {p95}")
        time.sleep(1.0)
        if not ws.received:
            print("websocket received nothing")
        else:
            print(f"websocket: {len(ws.received)} messages, first {ws.received[0][1]}")
        arrivals = {
            m["event_id"]: t
            for t, m in ws.received
            if m.get("type") == "event" and m.get("status") == "approved" and t >= started_at
        }
        created = dict(
            WorkItemEvent.objects.filter(pk__in=list(arrivals)).values_list("pk", "created_at")
        )
        live_ms = [(arrivals[pk] - created[pk].timestamp()) * 1e3 for pk in created]
        print(
            f"live update: {len(live_ms)}/{len(fresh)} events received; "
            f"P50 {pct(live_ms, 0.5)} ms, P95 {pct(live_ms, 0.95)} ms"
        )
    finally:
        stop_process(server, timeout=10)
    result = {
        "items": stored,
        "awaiting_review_in_queue": waiting,
        "threads": args.threads,
        "web_workers": args.workers or default_web_workers(),
        "queue_ms_p50": pct(queue_ms, 0.5),
        "queue_ms_p95": pct(queue_ms, 0.95),
        "approve_ms_p50": pct(approve_ms, 0.5),
        "approve_ms_p95": pct(approve_ms, 0.95),
        "queue_server_ms_p50": pct(queue_server_ms, 0.5),
        "queue_server_ms_p95": pct(queue_server_ms, 0.95),
        "approve_server_ms_p50": pct(approve_server_ms, 0.5),
        "approve_server_ms_p95": pct(approve_server_ms, 0.95),
        "live_update_ms_p50": pct(live_ms, 0.5),
        "live_update_ms_p95": pct(live_ms, 0.95),
        "live_events_received": len(live_ms),
        "approvals": len(approve_ms),
        "median_of_queue": round(statistics.median(queue_ms), 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
