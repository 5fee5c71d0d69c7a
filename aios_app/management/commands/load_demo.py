from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from aios_app.demo import demo_accounts_load
from aios_app.envconf import env_str
from workflows.demo import demo_workflows_load


class Command(BaseCommand):
    help = (
        "Load demo teams, users and workflows (idempotent). Prints logins on the embedded default."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        password = (
            env_str("AIOS_DEMO_PASSWORD", "aios-demo") if settings.EMBEDDED_SERVICES else None
        )
        logins = demo_accounts_load(password=password)
        demo_workflows_load()
        self.stdout.write(
            "Demo workflows loaded: sales quoting, finance reconciliation, support triage."
        )
        if password:
            self.stdout.write(f"Demo logins (password for all: {password}):")
            for login in logins:
                teams = ", ".join(login.teams) or "-"
                self.stdout.write(
                    f"  {login.username:<6} {', '.join(login.roles):<15} teams: {teams}"
                )
        else:
            self.stdout.write("Demo users created without printed passwords (external services).")
