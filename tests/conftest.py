"""Shared fixtures: personas, a live ASGI server (Daphne) and a headless Chromium.

Tests run against the embedded PostgreSQL (pgvector) and Redis under `.data/test/`
(or AIOS_DATA_DIR), or against DATABASE_URL / REDIS_URL when set.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.db import connections

from aios_app.models import Team
from aios_app.roles import ensure_role_groups
from workflows.connectors.fake_downstream import Downstream
from workflows.models import WorkflowVersion

PASSWORD = "correct-horse-battery"


# --- personas --------------------------------------------------------------------------


def _user(username: str, *, role: str | None, teams: list[Team]) -> User:
    ensure_role_groups()
    user = User.objects.create_user(
        username=username, password=PASSWORD, first_name=username.title()
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    for team in teams:
        team.members.add(user)
    return user


@pytest.fixture
def team(db: None) -> Team:
    return Team.objects.create(slug="sales-desk", name="Sales desk")


@pytest.fixture
def other_team(db: None) -> Team:
    return Team.objects.create(slug="finance-ops", name="Finance ops")


@pytest.fixture
def reviewer(team: Team) -> User:
    """Alice reviews for the sales desk."""
    return _user("alice", role="Reviewer", teams=[team])


@pytest.fixture
def teammate(team: Team) -> User:
    """Bob reviews for the sales desk too."""
    return _user("bob", role="Reviewer", teams=[team])


@pytest.fixture
def other_team_reviewer(other_team: Team) -> User:
    """Charlie reviews for finance ops, not for the sales desk."""
    return _user("charlie", role="Reviewer", teams=[other_team])


@pytest.fixture
def workflow_admin(db: None) -> User:
    return _user("wanda", role="Workflow admin", teams=[])


@pytest.fixture
def manager(db: None) -> User:
    return _user("max", role="Manager", teams=[])


@pytest.fixture
def auditor(db: None) -> User:
    return _user("audrey", role="Auditor", teams=[])


@pytest.fixture
def no_role_user(db: None) -> User:
    return _user("nobody", role=None, teams=[])


# --- engine -----------------------------------------------------------------------------


@pytest.fixture
def downstream() -> Iterator[Downstream]:
    """A fake CRM on loopback that applies each idempotency key once."""
    server = Downstream()
    yield server
    server.close()


@pytest.fixture
def auto_version(team: Team, downstream: Downstream) -> WorkflowVersion:
    """Workflow `quotes` (echo agent, auto policy) committing to `downstream`."""
    from tests.workflows.conftest import make_workflow

    return make_workflow(team, downstream.url)


# --- live ASGI server ------------------------------------------------------------------


def _serve_test_database(django_db_blocker: Any) -> None:
    """Runs in the forked server process: point at the test database, allow access."""
    from django.conf import settings

    settings.DATABASES["default"]["NAME"] = settings.DATABASES["default"]["TEST"]["NAME"]
    django_db_blocker.unblock()
    # Fork copies executors but not their threads: asgiref's one-thread executor, started
    # by an earlier socket test in the parent, would queue the child's sync work (every
    # database call of a consumer) forever. Give the child fresh ones.
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync

    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: None, django_db_blocker: Any) -> Iterator[str]:
    """Daphne in a child process serving the full ASGI app (HTTP + WebSocket).

    The child uses the test database; tests that need it use `transactional_db` so their
    rows are committed and visible to it.
    """
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    connections.close_all()  # never share a socket with the forked child
    process = DaphneProcess(
        "127.0.0.1",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=partial(_serve_test_database, django_db_blocker),
    )
    process.start()
    if not process.ready.wait(timeout=30):
        process.terminate()
        raise RuntimeError("Daphne test server did not start")
    yield f"http://127.0.0.1:{process.port.value}"
    process.terminate()
    process.join(timeout=10)


# --- browser ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("AIOS_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """Headless system Chromium through Playwright; skipped (visibly) when absent.

    AIOS_REQUIRE_BROWSER=1 (set by .ci/run) turns that skip into a failure.
    """
    path = CHROMIUM if os.path.exists(CHROMIUM) else shutil.which("chromium")
    if not path:
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("AIOS_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests required but {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop; the ORM calls tests make between page
    # actions are ordinary blocking calls in the test thread, which is safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def login_page(browser: object, asgi_server: str) -> object:
    """Factory: a new browser context logged in as `user` (through the real login form)."""
    contexts = []

    def login(user: User) -> object:
        context = browser.new_context(base_url=asgi_server)  # type: ignore[attr-defined]
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.goto("/login/")
        page.fill("#id_username", user.username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login/" not in url)
        return page

    yield login
    for context in contexts:
        context.close()
