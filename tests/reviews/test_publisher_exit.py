"""A process that published events exits promptly (CI once hung at the end of pytest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import process_env

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import django
django.setup()
from reviews.events import publisher
publisher.submit({"type": "work_item.event"}, ["queue.0"])
assert publisher.flush(timeout=10)
print("published")
"""


@pytest.mark.django_db
def test_a_process_that_published_exits_promptly() -> None:
    env = process_env(DJANGO_SETTINGS_MODULE="aios_app.settings", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "published" in done.stdout
