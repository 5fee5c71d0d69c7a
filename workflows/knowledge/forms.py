from __future__ import annotations

import json
from typing import Any

from django import forms

from workflows.knowledge.embeddings import known_model_names
from workflows.knowledge.models import Collection


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=120)
    slug = forms.SlugField(max_length=64)
    domain = forms.CharField(max_length=64, required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    is_canonical = forms.BooleanField(required=False, label="Canonical")

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Collection.objects.filter(slug=slug).exists():
            raise forms.ValidationError("A collection with this slug exists.")
        return slug


class UploadForm(forms.Form):
    file = forms.FileField()
    title = forms.CharField(max_length=300, required=False)


class ReembedForm(forms.Form):
    to_model = forms.ChoiceField(label="New embedding model")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_model"].choices = [(name, name) for name in known_model_names()]


class SearchForm(forms.Form):
    q = forms.CharField(max_length=1000, label="Query")
    collection = forms.ModelChoiceField(
        queryset=Collection.objects.order_by("name"), required=False, empty_label="All"
    )
    metadata = forms.CharField(
        required=False, label="Metadata filter (JSON)", widget=forms.TextInput()
    )
    k = forms.IntegerField(min_value=1, max_value=50, initial=10, required=False)
    mode = forms.ChoiceField(
        choices=[("hybrid", "Hybrid"), ("vector", "Vector only"), ("text", "Full-text only")],
        required=False,
    )

    def clean_metadata(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("metadata", "").strip()
        if not raw:
            return None
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc.msg}") from None
        if not isinstance(value, dict):
            raise forms.ValidationError('Give a JSON object, e.g. {"content_type": "pdf"}.')
        return value
