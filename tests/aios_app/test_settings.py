"""Settings come from the environment; production settings pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.support import database_url, process_env

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "PYTEST_VERSION", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _external_services_env() -> dict[str, str]:
    return {"DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL}


def test_production_settings_pass_check_deploy_without_warnings():
    # given production configuration: DEBUG off, a real key, a real host, external services
    env = {
        **_external_services_env(),
        "DEBUG": "0",
        "SECRET_KEY": "x" * 20 + "-production-secret-key-with-enough-entropy-9f8e7d6c5b4a",
        "ALLOWED_HOSTS": "aios.example.com",
    }
    # when
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_fails_loudly_in_production():
    env = {**_external_services_env(), "DEBUG": "0", "ALLOWED_HOSTS": "aios.example.com"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_malformed_variable_names_itself():
    result = _manage("check", env={"DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_db_pool_switches_to_a_connection_pool():
    # given DB_POOL, as the web process sets it
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "from django.db import connection; d = s.DATABASES['default']; "
        "print(d['CONN_MAX_AGE'], d['OPTIONS']['pool']['max_size']); "
        "connection.ensure_connection(); print(type(connection.pool).__name__)"
    )
    env = process_env(DB_POOL="3", DJANGO_SETTINGS_MODULE="aios_app.settings")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    # then persistent connections are off and connections come from a pool of 3
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["0", "3", "ConnectionPool"]


def test_negative_db_pool_is_refused():
    result = _manage("check", env={"DB_POOL": "-1"})
    assert result.returncode != 0
    assert "DB_POOL must be 0" in result.stderr


def test_settings_read_from_environment():
    # the test run itself: embedded services, channel layer and broker on the same Redis
    assert settings.CELERY_BROKER_URL.startswith(settings.REDIS_URL)
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] < 3600
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_importing_the_package_does_not_load_settings():
    # `python -m aios_app.embedded down` must not start the servers it is asked to stop
    code = "import sys, aios_app; print('aios_app.settings' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_beat_schedule_declares_the_sweeps():
    from aios_app.celery import app

    assert {"steps-sweep", "reviews-sla-sweep", "reviews-claims-expire"} <= set(
        app.conf.beat_schedule
    )
