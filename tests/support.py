"""Helpers for tests that start real processes against the test database."""

from __future__ import annotations

import os
import subprocess
from typing import Any
from urllib.parse import quote

from django.conf import settings


def database_url() -> str:
    """A DATABASE_URL for the database this test run uses (the test database)."""
    db = settings.DATABASES["default"]
    user = quote(db["USER"] or "")
    password = quote(db.get("PASSWORD") or "")
    host = db["HOST"] or ""
    if host.startswith("/"):
        return f"postgresql://{user}:{password}@/{db['NAME']}?host={host}"
    return f"postgresql://{user}:{password}@{host}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    """Environment for a child process (worker, server) sharing this test's services."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        DATABASE_URL=database_url(),
        REDIS_URL=settings.REDIS_URL,
        SECRET_KEY=settings.SECRET_KEY,
    )
    env.update(extra)
    return env


def session_cookie(user: Any) -> str:
    """The `sessionid` of a fresh logged-in session for `user` (a browser's cookie, for
    clients that do not go through the login form: socket clients, load generators)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    store = SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def stop_process(proc: Any, timeout: float = 20) -> None:
    """Ask a child process to stop (SIGTERM); kill it if it has not within `timeout`."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=timeout)
