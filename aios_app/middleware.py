"""Server-Timing: responses to signed-in users say how long the app took to make them.

`Server-Timing: app;dur=12.3` (milliseconds, from the first middleware to the response,
database and rendering included; the ASGI server's own share and the network are not).
Browsers show it in their developer tools; `bench/reviews.py` reports it next to the
latency a client sees, since the reviewer-action budget is a server-side figure.
Anonymous visitors get none: it would be a clean timing oracle against the login.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:  # not a timing oracle for strangers
            elapsed_ms = (time.perf_counter() - started) * 1e3
            response["Server-Timing"] = f"app;dur={elapsed_ms:.1f}"
        return response
