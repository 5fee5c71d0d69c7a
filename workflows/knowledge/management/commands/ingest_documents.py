"""Ingest files (or folders of them) into a collection, synchronously.

manage.py ingest_documents --collection pricing docs/pricing/*.md contracts/
manage.py ingest_documents --collection kb --create --name "Support KB" kb/
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from workflows.knowledge import parsing, services
from workflows.knowledge.exceptions import KnowledgeError
from workflows.knowledge.models import Collection


class Command(BaseCommand):
    help = "Ingest .txt/.md/.html/.pdf/.csv files into a knowledge collection."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", help="files or folders (searched recursively)")
        parser.add_argument("--collection", required=True, help="collection slug")
        parser.add_argument("--create", action="store_true", help="create it if missing")
        parser.add_argument("--name", help="name of a collection created with --create")
        parser.add_argument("--metadata", default="{}", help="JSON object stored on chunks")

    def handle(self, *args: Any, **options: Any) -> None:
        collection = Collection.objects.filter(slug=options["collection"]).first()
        if collection is None:
            if not options["create"]:
                raise CommandError(f"no collection {options['collection']!r} (use --create)")
            collection = services.collection_create(
                name=options["name"] or options["collection"], slug=options["collection"]
            )
        try:
            metadata = json.loads(options["metadata"])
        except json.JSONDecodeError as exc:
            raise CommandError(f"--metadata is not JSON: {exc}") from None
        failures = 0
        for path in self._files(options["paths"]):
            try:
                result = services.document_ingest(
                    collection_id=collection.id,
                    filename=path.name,
                    content=path.read_bytes(),
                    source=str(path),
                    metadata=metadata,
                )
            except KnowledgeError as exc:
                failures += 1
                self.stderr.write(f"refused {path}: {exc}")
                continue
            self.stdout.write(f"{result.outcome:12} {path} ({result.chunk_count} chunks)")
        if failures:
            raise CommandError(f"{failures} file(s) refused")

    def _files(self, paths: list[str]) -> list[Path]:
        files: list[Path] = []
        for raw in paths:
            path = Path(raw)
            if path.is_dir():
                files.extend(
                    p
                    for p in sorted(path.rglob("*"))
                    if p.is_file() and p.suffix.lower() in parsing.EXTENSION_TYPES
                )
            elif path.is_file():
                files.append(path)
            else:
                raise CommandError(f"no such file or folder: {path}")
        return files
