from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from aios_app.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a machine client; prints it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name")
        parser.add_argument("--workflow", action="append", default=[], help="limit to slug(s)")

    def handle(self, *args: Any, **options: Any) -> None:
        row, token = api_token_create(name=options["name"], workflows=options["workflow"])
        scope = ", ".join(row.workflows) or "all workflows"
        self.stdout.write(f"Token for {row.name} ({scope}) — store it now, it is not kept:")
        self.stdout.write(token)
