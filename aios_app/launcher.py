"""`make run`: embedded services up, migrate, demo data, then web + worker + beat.

One process manager (honcho) runs the Procfile's processes; Ctrl-C stops them all and,
when this launcher started the embedded PostgreSQL and Redis, those too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from honcho.environ import parse_procfile
from honcho.manager import Manager

from aios_app import embedded

ROOT = Path(__file__).resolve().parent.parent


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)


def main() -> int:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("AIOS_HTTPS", "0")
    uses_embedded = not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL")
    data_dir = embedded.default_data_dir()
    if uses_embedded:
        print(f"Starting embedded PostgreSQL and Redis (data in {data_dir}) ...", flush=True)
        if not os.environ.get("DATABASE_URL"):
            embedded.postgres_url(data_dir)
        if not os.environ.get("REDIS_URL"):
            embedded.redis_url(data_dir)
    try:
        _manage("migrate", "--noinput", "-v", "0")
        _manage("load_demo")
        host = os.environ.get("AIOS_HOST", "127.0.0.1")
        port = os.environ.get("AIOS_PORT", "8000")
        url = f"http://{host}:{port}/"
        print(f"\n  AIOS is starting at {url}   (Ctrl-C stops everything)\n", flush=True)
        procfile = parse_procfile((ROOT / "Procfile").read_text())
        manager = Manager()
        for name, entry in procfile.processes.items():
            manager.add_process(name, entry, cwd=str(ROOT), env=dict(os.environ))
        manager.loop()
        return manager.returncode or 0
    finally:
        # A second Ctrl-C (or make's own signal) must not cut the shutdown short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if uses_embedded:
            print("Stopping embedded services ...", flush=True)
            if not os.environ.get("DATABASE_URL"):
                embedded.stop_postgres(data_dir)
            if not os.environ.get("REDIS_URL"):
                embedded.stop_redis(data_dir)
            print("Stopped.", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
