"""JSON-schema validation with errors keyed by field path (for forms, API and drafts)."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError


def schema_errors(schema: dict[str, Any], data: Any) -> dict[str, str]:
    """Every problem with `data`, keyed by its path (`lines[2].qty`; `$` for the root)."""
    if not schema:
        return {}
    validator = Draft202012Validator(schema)
    errors: dict[str, str] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path)):
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        key = path.lstrip(".") or "$"
        errors.setdefault(key, error.message)
    return errors


def check_schema(schema: Any) -> str | None:
    """None if `schema` is a usable JSON schema, else the reason."""
    if not isinstance(schema, dict):
        return "a schema must be a JSON object"
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None
