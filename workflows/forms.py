from __future__ import annotations

import json
from typing import Any

from django import forms

from aios_app.models import Team
from workflows.agents.base import agent_names


class JSONTextField(forms.CharField):
    """A JSON object edited as text; errors say where the JSON is broken."""

    widget = forms.Textarea(attrs={"rows": 6, "spellcheck": "false"})

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value) or "{}"
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
        if not isinstance(data, dict):
            raise forms.ValidationError("must be a JSON object")
        return data

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, dict):
            return json.dumps(value, indent=2, sort_keys=True)
        return value


class WorkflowVersionForm(forms.Form):
    agent = forms.ChoiceField()
    reviewing_team = forms.ModelChoiceField(queryset=Team.objects.all())
    escalation_team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    queue = forms.CharField(max_length=64, initial="central")
    sla_seconds = forms.IntegerField(min_value=60, max_value=90 * 24 * 3600, initial=4 * 3600)
    self_hosted_only = forms.BooleanField(required=False)
    review_policy = JSONTextField(required=False)
    input_schema = JSONTextField(required=False)
    draft_schema = JSONTextField(required=False)
    connector = JSONTextField(required=False)
    steps = JSONTextField(required=False)
    routes = JSONTextField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["agent"].choices = [(n, n) for n in agent_names()]


class CancelForm(forms.Form):
    reason = forms.CharField(max_length=500, min_length=3)
