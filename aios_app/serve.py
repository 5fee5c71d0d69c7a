"""The web process: uvicorn serving the ASGI app (HTTP + WebSockets) from several processes.

    python -m aios_app.serve          # what `make run` (Procfile `web`) starts

Django runs each request's sync view on one thread per process (asgiref's
thread-sensitive executor), so one process serves one page at a time; uvicorn's
`--workers` forks that many processes sharing the listening socket, and the kernel spreads
connections across them. Channels' Redis layer makes live updates work across processes.

Settings (environment): AIOS_HOST, AIOS_PORT, WEB_CONCURRENCY (processes; default: the
CPU count, at least 2, at most 8), DB_POOL (connections per process, default 8),
AIOS_FORWARDED_ALLOW_IPS (proxies whose X-Forwarded-* headers are trusted; default none).
"""

from __future__ import annotations

import os

import uvicorn


def default_web_workers() -> int:
    configured = os.environ.get("WEB_CONCURRENCY", "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(2, min(8, os.cpu_count() or 1))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "aios_app.settings")
    # A connection pool per process: without it every request opens a PostgreSQL
    # connection (see DB_POOL in settings). Children inherit the environment.
    os.environ.setdefault("DB_POOL", "8")
    uvicorn.run(
        "aios_app.asgi:application",
        host=os.environ.get("AIOS_HOST", "127.0.0.1"),
        port=int(os.environ.get("AIOS_PORT", "8000")),
        workers=default_web_workers(),
        log_level=os.environ.get("LOG_LEVEL", "info").lower(),
        # The app reads the client address for audit; trust proxies only when told to.
        proxy_headers=bool(os.environ.get("AIOS_FORWARDED_ALLOW_IPS")),
        forwarded_allow_ips=os.environ.get("AIOS_FORWARDED_ALLOW_IPS") or None,
        lifespan="off",  # Django's ASGI handler does not implement lifespan events
        ws="websockets-sansio",
        server_header=False,
    )


if __name__ == "__main__":
    main()
