"""Review policy: code over validated fields and numbers, never a model's free text.

A draft goes to human review before commit when it is invalid, its confidence is below
the threshold, or any rule fires. Otherwise it is committed; committed items are then
sampled into post-commit validation (`sample_rate`; post_commit mode defaults to all).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

OPERATORS = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "in": lambda a, b: a in b,
    "abs_gt": lambda a, b: abs(a) > b,
}

MODE_DEFAULTS: dict[str, dict[str, Any]] = {
    "pre_commit": {"confidence_threshold": 1.01, "sample_rate": 0.0},  # everything reviewed
    "auto": {"confidence_threshold": 0.0, "sample_rate": 0.0},
    "post_commit": {"confidence_threshold": 0.0, "sample_rate": 1.0},
}


@dataclass(frozen=True)
class Decision:
    review_before_commit: bool
    validate_after_commit: bool
    reasons: list[str] = field(default_factory=list)


def _lookup(fields: dict[str, Any], path: str) -> Any:
    value: Any = fields
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def sampled(item_id: int, rate: float) -> bool:
    """Deterministic per item, so a re-run of the step decides the same way."""
    if rate <= 0:
        return False
    if rate >= 1:
        return True
    bucket = int(hashlib.sha256(f"sample:{item_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < rate


def decide(
    policy: dict[str, Any],
    *,
    item_id: int,
    fields: dict[str, Any],
    valid: bool,
    confidence: float | None,
) -> Decision:
    mode = policy.get("mode", "pre_commit")
    settings = {**MODE_DEFAULTS.get(mode, MODE_DEFAULTS["pre_commit"]), **policy}
    reasons: list[str] = []
    if not valid:
        reasons.append("draft does not match the schema")
    threshold = float(settings["confidence_threshold"])
    if confidence is None or confidence < threshold:
        shown = "none" if confidence is None else f"{confidence:.2f}"
        reasons.append(f"confidence {shown} below {min(threshold, 1.0):.2f}")
    for rule in settings.get("rules", []):
        value = _lookup(fields, rule["field"])
        op = OPERATORS[rule["op"]]
        try:
            fired = value is not None and op(value, rule["value"])
        except TypeError:
            fired = True  # a value of the wrong type cannot be trusted to pass
        if fired:
            reasons.append(rule.get("label") or f"{rule['field']} {rule['op']} {rule['value']}")
    review = bool(reasons)
    validate = not review and sampled(item_id, float(settings["sample_rate"]))
    return Decision(review_before_commit=review, validate_after_commit=validate, reasons=reasons)


def validate_policy(policy: dict[str, Any]) -> dict[str, str]:
    """Errors by key for an admin-entered policy (empty when valid)."""
    errors: dict[str, str] = {}
    if policy.get("mode", "pre_commit") not in MODE_DEFAULTS:
        errors["mode"] = f"must be one of {sorted(MODE_DEFAULTS)}"
    for key in ("confidence_threshold", "sample_rate"):
        if key in policy:
            value = policy[key]
            if not isinstance(value, int | float) or not 0 <= value <= 1.01:
                errors[key] = "must be a number between 0 and 1"
    for i, rule in enumerate(policy.get("rules", [])):
        if not isinstance(rule, dict) or not {"field", "op", "value"} <= set(rule):
            errors[f"rules[{i}]"] = "needs field, op and value"
        elif rule["op"] not in OPERATORS:
            errors[f"rules[{i}].op"] = f"must be one of {sorted(OPERATORS)}"
    return errors
