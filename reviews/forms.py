"""Forms of the reviewer workspace. The draft form is generated from the version's
draft_schema (falling back to the draft's own value types): simple types get inputs,
nested objects and arrays a JSON textarea."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms

from aios_app.models import Team

PREFIX = "field:"
_INT_RE = re.compile(r"^[+-]?\d+$")


@dataclass
class DraftField:
    name: str
    kind: str  # string | text | number | integer | boolean | enum | json
    value: Any
    required: bool = False
    choices: list[Any] = field(default_factory=list)
    description: str = ""
    error: str = ""
    raw: str | None = None  # what the reviewer typed, re-shown after an error
    in_draft: bool = True

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def display(self) -> str:
        """The value as the input shows it (escaped by the template, never marked safe)."""
        if self.raw is not None:
            return self.raw
        if self.value is None:
            return ""
        if self.kind == "json":
            return json.dumps(self.value, indent=2, ensure_ascii=False)
        return str(self.value)

    @property
    def choice_strings(self) -> list[str]:
        return [str(c) for c in self.choices]


def _kind_of_schema(prop: dict[str, Any], value: Any) -> str:
    if "enum" in prop:
        return "enum"
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "string":
        long = int(prop.get("maxLength", 0)) > 200
        return (
            "text"
            if long or (isinstance(value, str) and ("\n" in value or len(value) > 80))
            else "string"
        )
    if kind in ("number", "integer", "boolean"):
        return str(kind)
    if kind is None and value is not None:
        return _kind_of_value(value)
    return "json"


def _kind_of_value(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text" if "\n" in value or len(value) > 80 else "string"
    return "json"


def draft_fields(schema: dict[str, Any], values: dict[str, Any]) -> list[DraftField]:
    props: dict[str, Any] = (schema or {}).get("properties", {}) or {}
    required = set((schema or {}).get("required", []) or [])
    result: list[DraftField] = []
    # JSONB does not keep key order: a schema may give one ("x-order"); otherwise the
    # required fields come first, each group by name.
    order = [n for n in (schema or {}).get("x-order", []) if n in props or n in values]
    names = sorted({*props, *values} - set(order), key=lambda n: (n not in required, n))
    for name in [*order, *names]:
        prop = props.get(name, {}) if isinstance(props.get(name), dict) else {}
        value = values.get(name)
        kind = _kind_of_schema(prop, value) if prop else _kind_of_value(value)
        result.append(
            DraftField(
                name=name,
                kind=kind,
                value=value,
                required=name in required,
                choices=list(prop.get("enum", [])),
                description=str(prop.get("description", "")),
                in_draft=name in values,
            )
        )
    return result


def _convert(f: DraftField, raw: str) -> Any:
    text = raw.strip()
    if f.kind in ("string", "text"):
        value = raw.replace("\r\n", "\n")
        return None if value == "" and f.value is None else value
    if f.kind == "enum":
        match = [c for c in f.choices if str(c) == raw]
        if raw and not match:
            raise ValueError("choose one of the offered values")
        return match[0] if match else None
    if text == "":
        return None
    if f.kind == "integer":
        if not _INT_RE.match(text):
            raise ValueError("enter a whole number")
        return int(text)
    if f.kind == "number":
        try:
            return int(text) if _INT_RE.match(text) else float(text)
        except ValueError:
            raise ValueError("enter a number") from None
    try:
        return json.loads(text)
    except ValueError:
        raise ValueError("not valid JSON") from None


def parse_draft_post(fields: list[DraftField], post: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The edited fields from a POST, and errors per field for values of the wrong type.

    Schema validation (required, ranges) is the service's job; this only converts. A
    field missing from the POST keeps the draft's value; an emptied optional field that
    the draft did not have stays absent."""
    final: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = post.get(f.input_name)  # a checkbox follows its hidden "false": last wins
        if raw is not None and f.kind == "boolean":
            final[f.name] = raw in ("true", "on", "1")
            continue
        if raw is None:
            if f.in_draft:
                final[f.name] = f.value
            continue
        f.raw = raw
        try:
            value = _convert(f, raw)
        except ValueError as exc:
            errors[f.name] = str(exc)
            continue
        if value is not None or f.in_draft:
            final[f.name] = value
    return final, errors


def attach_errors(fields: list[DraftField], errors: dict[str, str]) -> None:
    """Show errors keyed by schema path (`lines[0].qty`) on their top-level field."""
    by_name = {f.name: f for f in fields}
    for path, message in errors.items():
        top = re.split(r"[.\[]", path, maxsplit=1)[0]
        target = by_name.get(top)
        if target is not None:
            target.error = f"{path}: {message}" if path != top else message


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class RedraftForm(forms.Form):
    instruction = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class CommentForm(forms.Form):
    body = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, exclude_team_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        teams = Team.objects.all()
        if exclude_team_id:
            teams = teams.exclude(pk=exclude_team_id)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["team"].empty_label = "the workflow's escalation team"  # type: ignore[attr-defined]


class BulkApproveForm(forms.Form):
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=())

    def clean_ids(self) -> list[int]:
        return self.cleaned_data["ids"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(v, v) for v in raw if str(v).isdigit()][:200]  # type: ignore[attr-defined]
