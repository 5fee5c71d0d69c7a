"""Embedded PostgreSQL + Redis: start, keep data across restarts, survive a kill -9."""

import os
import signal
import time
from pathlib import Path

import psycopg
import pytest
import redis

from aios_app import embedded


@pytest.fixture
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # short path: Unix sockets have a ~100 character limit
    path = tmp_path_factory.mktemp("emb")
    yield path
    embedded.stop_postgres(path)
    embedded.stop_redis(path)


def _pg_pid(data_dir: Path) -> int:
    return int((data_dir / "pg" / "postmaster.pid").read_text().splitlines()[0])


def test_services_restart_with_data_kept(data_dir):
    # given both servers started and some data written
    pg_url = embedded.postgres_url(data_dir, database="keep")
    redis_url = embedded.redis_url(data_dir)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE note (body text)")
        conn.execute("INSERT INTO note VALUES ('kept')")
    redis.Redis.from_url(redis_url).set("note", "kept")
    # when both are stopped and started again (a second app start)
    assert embedded.stop_postgres(data_dir)
    assert embedded.stop_redis(data_dir)
    pg_url_again = embedded.postgres_url(data_dir, database="keep")
    redis_url_again = embedded.redis_url(data_dir)
    # then the same addresses serve the same data
    assert (pg_url_again, redis_url_again) == (pg_url, redis_url)
    with psycopg.connect(pg_url_again) as conn:
        assert conn.execute("SELECT body FROM note").fetchone() == ("kept",)
    assert redis.Redis.from_url(redis_url_again).get("note") == b"kept"


def test_vector_extension_available_in_new_databases(data_dir):
    url = embedded.postgres_url(data_dir, database="vec")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        assert conn.execute("SELECT '[1,2]'::vector <=> '[2,4]'::vector").fetchone()[
            0
        ] == pytest.approx(0)


def test_killed_servers_do_not_block_the_next_start(data_dir):
    # given servers killed without a chance to clean up (stale pid files and sockets)
    pg_url = embedded.postgres_url(data_dir, database="crash")
    redis_url = embedded.redis_url(data_dir)
    os.kill(_pg_pid(data_dir), signal.SIGKILL)
    redis_pid = int((data_dir / "redis" / "redis.pid").read_text())
    os.kill(redis_pid, signal.SIGKILL)
    time.sleep(0.5)
    # when started again
    assert embedded.postgres_url(data_dir, database="crash") == pg_url
    assert embedded.redis_url(data_dir) == redis_url
    # then both answer
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert redis.Redis.from_url(redis_url).ping()
