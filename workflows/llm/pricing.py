"""Cost of a call from a configurable price table.

`settings.AIOS_MODEL_PRICES` (env var of the same name, JSON) maps a model name to its
prices in the table's currency per one million tokens:

    {"gpt-4o-mini": {"input": "0.15", "output": "0.60"}, "llama3": {"input": 0, "output": 0}}

A model matches its exact name first, then the longest table name it starts with (so
"gpt-4o-mini-2024-07-18" is priced as "gpt-4o-mini"). A model with no price costs `None`
(unknown, shown as such), never a guessed zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MILLION = Decimal(1_000_000)
QUANTUM = Decimal("0.00000001")


@dataclass(frozen=True)
class Price:
    input_per_million: Decimal
    output_per_million: Decimal


def _decimal(model: str, side: str, value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ImproperlyConfigured(
            f"AIOS_MODEL_PRICES[{model!r}][{side!r}] is not a number: {value!r}"
        ) from None
    if amount < 0:
        raise ImproperlyConfigured(f"AIOS_MODEL_PRICES[{model!r}][{side!r}] is negative")
    return amount


def price_table() -> dict[str, Price]:
    raw = settings.AIOS_MODEL_PRICES
    if not isinstance(raw, dict):
        raise ImproperlyConfigured("AIOS_MODEL_PRICES must be a JSON object")
    table = {}
    for model, entry in raw.items():
        if not isinstance(entry, dict) or not {"input", "output"} <= entry.keys():
            raise ImproperlyConfigured(
                f"AIOS_MODEL_PRICES[{model!r}] needs 'input' and 'output' prices per 1M tokens"
            )
        table[model] = Price(
            _decimal(model, "input", entry["input"]), _decimal(model, "output", entry["output"])
        )
    return table


def price_for(model: str) -> Price | None:
    table = price_table()
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name)]
    return table[max(prefixes, key=len)] if prefixes else None


def cost_for(*, model: str, input_tokens: int, output_tokens: int) -> Decimal | None:
    price = price_for(model)
    if price is None:
        return None
    cost = (
        Decimal(input_tokens) * price.input_per_million
        + Decimal(output_tokens) * price.output_per_million
    ) / MILLION
    return cost.quantize(QUANTUM)
