"""Redaction of personal data in what the ledger stores (never in what the model gets).

`settings.AIOS_REDACT_PATTERNS` (env var of the same name, JSON) maps a label to a regular
expression (defaults: email, IBAN, phone); each match is stored as `[REDACTED:<label>]`.
Applied to a call's stored messages, output and tool calls when its route or provider has
`redact_pii` set.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


@functools.cache
def _compiled(items: tuple[tuple[str, str], ...]) -> list[tuple[str, re.Pattern[str]]]:
    compiled = []
    for label, pattern in items:
        try:
            compiled.append((label, re.compile(pattern)))
        except re.error as exc:
            raise ImproperlyConfigured(f"AIOS_REDACT_PATTERNS[{label!r}]: {exc}") from None
    return compiled


def patterns() -> list[tuple[str, re.Pattern[str]]]:
    return _compiled(tuple(settings.AIOS_REDACT_PATTERNS.items()))


def redact_text(text: str) -> str:
    for label, pattern in patterns():
        text = pattern.sub(f"[REDACTED:{label}]", text)
    return text


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-like value (messages, tool calls)."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, list):
        return [redact_value(v) for v in value]
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    return value
