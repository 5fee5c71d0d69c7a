"""A fake downstream system (CRM/ERP) for tests and benchmarks: applies each idempotency
key once, counts every request, and can be told to fail the next requests."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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
