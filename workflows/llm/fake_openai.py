"""A fake OpenAI-compatible HTTP server for tests and benchmarks (stdlib only, no Django).

    with FakeOpenAI(latency_s=0.05) as fake:           # a free loopback port
        client = openai.OpenAI(base_url=fake.url, api_key="x")
        fake.script("fake-json", "429", "500")         # next two answers fail, then default

Behaviour is chosen per request: first from the model's script queue (`script()`), else
from the model name:

| model                     | answer                                                    |
|---------------------------|-----------------------------------------------------------|
| fake-json (or any other)  | JSON generated to match the request's `json_schema`       |
| fake-tools                | a tool call (first offered tool) until tool results come, then JSON |
| fake-bad-json             | content that is not JSON                                  |
| fake-bad-json-then-good   | not JSON, then JSON once the request has an assistant turn |
| fake-429                  | HTTP 429 with `Retry-After: <retry_after_s>`              |
| fake-500                  | HTTP 500                                                  |
| fake-hang                 | no answer for `hang_s` (or until the server stops)        |
| fake-broken-body          | HTTP 200 whose body is not JSON                           |

A `+<n>ms` suffix adds latency to that model (`fake-json+500ms`); `latency_s` adds latency
to every request. Script entries are behaviour names as above ("json", "tools", "429",
"500", "hang", "bad-json", "broken-body") or dicts: `{"content": "..."}` (this exact
content) or `{"tool_call": {"name": "...", "arguments": {...}}}`.
`/v1/embeddings` answers deterministic unit vectors (`embedding_dim`, or `dimensions`).

Control over HTTP (for a server in another process): POST /_control/script
`{"model": ..., "behaviours": [...]}`, POST /_control/reset, GET /_control/requests.
Run standalone: `python -m workflows.llm.fake_openai --port 8011 --latency-ms 500`.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_LATENCY_SUFFIX = re.compile(r"\+(\d+)ms$")


class FakeOpenAI:
    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        latency_s: float = 0.0,
        hang_s: float = 30.0,
        retry_after_s: float = 1.0,
        embedding_dim: int = 8,
    ) -> None:
        self.host = host
        self.port = port
        self.latency_s = latency_s
        self.hang_s = hang_s
        self.retry_after_s = retry_after_s
        self.embedding_dim = embedding_dim
        self.requests: list[dict[str, Any]] = []
        self._scripts: dict[str, collections.deque[Any]] = collections.defaultdict(
            collections.deque
        )
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._counter = 0

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(_Handler):
            server_fake = fake

        server = _Server((self.host, self.port), Handler)
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    # --- scripting and inspection ------------------------------------------------------

    def script(self, model: str, *behaviours: Any) -> None:
        """Queue behaviours for the next requests to `model` (then its default applies)."""
        with self._lock:
            self._scripts[model].extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.requests.clear()

    def requests_for(self, model: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r.get("model") == model]

    def _next_behaviour(self, model: str) -> Any:
        with self._lock:
            queue = self._scripts.get(model)
            if queue:
                return queue.popleft()
        return None

    def _record(self, path: str, body: dict[str, Any]) -> int:
        with self._lock:
            self._counter += 1
            self.requests.append({"path": path, "model": body.get("model"), "body": body})
            return self._counter


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512  # many clients connect at once in the benchmarks
    allow_reuse_address = True


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the openai client pools connections
    # One write per response, sent at once: headers and body in separate small writes meet
    # Nagle's algorithm and delayed ACKs, adding ~40 ms to every answer.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib name)
        return  # quiet

    # --- plumbing ----------------------------------------------------------------------

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {}

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (timeout): fine

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        kind = "rate_limit_error" if status == 429 else "server_error"
        self._send(status, {"error": {"message": message, "type": kind, "code": None}}, headers)

    # --- routes ------------------------------------------------------------------------

    def do_GET(self) -> None:  # noqa: N802 (stdlib name)
        fake = self.server_fake
        if self.path.rstrip("/") == "/v1/models":
            self._send(200, {"object": "list", "data": [{"id": "fake-json", "object": "model"}]})
        elif self.path == "/_control/requests":
            with fake._lock:
                self._send(200, {"requests": list(fake.requests)})
        else:
            self._error(404, f"no route {self.path}")

    def do_POST(self) -> None:  # noqa: N802 (stdlib name)
        fake = self.server_fake
        body = self._body()
        if self.path == "/_control/script":
            fake.script(body["model"], *body.get("behaviours", []))
            self._send(200, {"ok": True})
            return
        if self.path == "/_control/reset":
            fake.reset()
            self._send(200, {"ok": True})
            return
        number = fake._record(self.path, body)
        model = str(body.get("model", ""))
        delay = fake.latency_s
        suffix = _LATENCY_SUFFIX.search(model)
        if suffix:
            delay += int(suffix.group(1)) / 1000
        if delay:
            time.sleep(delay)
        if self.path.endswith("/chat/completions"):
            self._chat(body, model, number)
        elif self.path.endswith("/embeddings"):
            self._embeddings(body, model)
        else:
            self._error(404, f"no route {self.path}")

    def _chat(self, body: dict[str, Any], model: str, number: int) -> None:
        fake = self.server_fake
        behaviour = fake._next_behaviour(model)
        if behaviour is None:
            behaviour = _default_behaviour(_LATENCY_SUFFIX.sub("", model), body)
        if behaviour == "429":
            self._error(429, "rate limited", {"Retry-After": f"{fake.retry_after_s:g}"})
            return
        if behaviour == "500":
            self._error(500, "the fake server failed, as asked")
            return
        if behaviour == "hang":
            fake._stopping.wait(fake.hang_s)
            behaviour = "json"
        if behaviour == "broken-body":
            self._send(200, b'{"id": "chatcmpl-broken", "choices": [')
            return
        tool_calls: list[dict[str, Any]] = []
        content: str | None
        if isinstance(behaviour, dict) and "content" in behaviour:
            content = str(behaviour["content"])
        elif isinstance(behaviour, dict) and "tool_call" in behaviour:
            call = behaviour["tool_call"]
            content = None
            tool_calls = [_tool_call(number, call["name"], call.get("arguments", {}))]
        elif behaviour == "tools" and body.get("tools"):
            function = body["tools"][0]["function"]
            arguments = example_for(function.get("parameters") or {"type": "object"})
            content = None
            tool_calls = [_tool_call(number, function["name"], arguments)]
        elif behaviour == "bad-json":
            content = 'Sure! Here is the JSON: {"answer": oops'
        else:
            content = json.dumps(example_for(_schema_of(body)))
        prompt_chars = sum(len(json.dumps(m)) for m in body.get("messages", []))
        output_chars = len(content or "") + sum(len(json.dumps(c)) for c in tool_calls)
        message: dict[str, Any] = {"role": "assistant", "content": content}
        if tool_calls:
            message["tool_calls"] = tool_calls
        self._send(
            200,
            {
                "id": f"chatcmpl-fake-{number}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": "tool_calls" if tool_calls else "stop",
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_chars // 4 + 1,
                    "completion_tokens": output_chars // 4 + 1,
                    "total_tokens": prompt_chars // 4 + output_chars // 4 + 2,
                },
            },
        )

    def _embeddings(self, body: dict[str, Any], model: str) -> None:
        fake = self.server_fake
        behaviour = fake._next_behaviour(model)
        if behaviour in ("429", "500"):
            status = int(behaviour)
            headers = {"Retry-After": f"{fake.retry_after_s:g}"} if status == 429 else None
            self._error(status, "failed, as asked", headers)
            return
        texts = body.get("input", [])
        texts = [texts] if isinstance(texts, str) else texts
        dim = int(body.get("dimensions") or fake.embedding_dim)
        data = [
            {"object": "embedding", "index": i, "embedding": _vector(str(t), dim)}
            for i, t in enumerate(texts)
        ]
        tokens = sum(len(str(t)) // 4 + 1 for t in texts)
        self._send(
            200,
            {
                "object": "list",
                "data": data,
                "model": model,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )


def _default_behaviour(model: str, body: dict[str, Any]) -> str:
    messages = body.get("messages", [])
    if model == "fake-429":
        return "429"
    if model == "fake-500":
        return "500"
    if model == "fake-hang":
        return "hang"
    if model == "fake-bad-json":
        return "bad-json"
    if model == "fake-broken-body":
        return "broken-body"
    if model == "fake-bad-json-then-good":
        repairing = any(m.get("role") == "assistant" for m in messages)
        return "json" if repairing else "bad-json"
    if model == "fake-tools":
        has_results = any(m.get("role") == "tool" for m in messages)
        return "json" if has_results else "tools"
    return "json"


def _tool_call(number: int, name: str, arguments: Any) -> dict[str, Any]:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    return {
        "id": f"call_fake_{number}",
        "type": "function",
        "function": {"name": name, "arguments": text},
    }


def _schema_of(body: dict[str, Any]) -> dict[str, Any]:
    response_format = body.get("response_format") or {}
    if response_format.get("type") == "json_schema":
        return response_format.get("json_schema", {}).get("schema") or {"type": "object"}
    return {"type": "object", "properties": {"answer": {"type": "string"}}}


def example_for(schema: dict[str, Any]) -> Any:
    """A small value valid for common JSON schemas (every property filled in)."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return example_for(schema[key][0])
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: example_for(sub) for name, sub in properties.items()}
    if kind == "array":
        count = max(int(schema.get("minItems", 1)), 1)
        return [example_for(schema.get("items", {"type": "string"})) for _ in range(count)]
    if kind == "string":
        text = "fake " + schema.get("format", "text")
        return text.ljust(int(schema.get("minLength", 0)), "x")
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    return None


def _vector(text: str, dim: int) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    raw = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(dim)]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return [v / norm for v in raw]


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8011, help="0: a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    fake = FakeOpenAI(host=args.host, port=args.port, latency_s=args.latency_ms / 1000).start()
    print(f"fake OpenAI server on {fake.url}", flush=True)  # noqa: T201
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
