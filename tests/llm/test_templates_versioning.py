"""Prompt templates are versioned rows; calls record the version they used."""

from __future__ import annotations

import pytest

from tests.llm.conftest import QUOTE_SCHEMA
from workflows.llm import services
from workflows.llm.gateway import generate_structured
from workflows.llm.models import ModelCall, PromptTemplate, Route


def test_changing_a_prompt_makes_a_new_version(db):
    first = services.prompt_template_save(name="triage", user="Classify: {{ text }}")
    second = services.prompt_template_save(name="triage", user="Classify this: {{ text }}")
    assert (first.version, second.version) == (1, 2)
    assert PromptTemplate.objects.get(id=first.id).user == "Classify: {{ text }}"


def test_saving_the_same_text_keeps_the_version(db):
    first = services.prompt_template_save(name="triage", user="Classify: {{ text }}")
    again = services.prompt_template_save(name="triage", user="Classify: {{ text }}")
    assert again.id == first.id
    assert PromptTemplate.objects.filter(name="triage").count() == 1


def test_calls_record_the_version_they_used(make_route, quote_template):
    # given a step that ran on version 1, then the prompt changed
    make_route("draft", model="fake-json")
    variables = {"customer": "ACME", "request": "1 widget"}
    before = generate_structured(route="draft", template="sales-quote", variables=variables,
                                 schema=QUOTE_SCHEMA)  # fmt: skip
    services.prompt_template_save(name="sales-quote", user="Quote {{ customer }}: {{ request }}")
    # when it runs again
    after = generate_structured(route="draft", template="sales-quote", variables=variables,
                                schema=QUOTE_SCHEMA)  # fmt: skip
    # then each result and each call names its own version (and the new text missed the cache)
    assert (before.template_version, after.template_version) == (1, 2)
    assert not after.cache_hit
    versions = ModelCall.objects.filter(
        id__in=before.model_call_ids + after.model_call_ids
    ).values_list("template_version", flat=True)
    assert sorted(versions) == [1, 2]


def test_defaults_ensure_is_idempotent(db):
    Route.objects.filter(name="default").delete()
    route = services.llm_defaults_ensure()
    again = services.llm_defaults_ensure()
    assert route.id == again.id
    assert route.provider.kind == "offline"
    assert route.egress == "self-hosted"


def test_workers_keep_routes_and_prompts_for_the_configured_time(
    make_route, quote_template, settings, django_assert_num_queries
):
    # given a worker that caches configuration for a minute, and one call made
    settings.AIOS_LLM_CONFIG_TTL_S = 60
    make_route("draft", model="fake-json", cache_enabled=False)
    variables = {"customer": "ACME", "request": "1 widget"}
    generate_structured(route="draft", template="sales-quote", variables=variables,
                        schema=QUOTE_SCHEMA)  # fmt: skip
    # when the next call comes, then only the ledger row is written
    with django_assert_num_queries(1):
        generate_structured(route="draft", template="sales-quote", variables=variables,
                            schema=QUOTE_SCHEMA)  # fmt: skip


def test_route_on_a_managed_provider_cannot_be_labelled_self_hosted(db):
    from django.core.exceptions import ValidationError

    from workflows.llm.models import Provider

    cloud = Provider.objects.create(name="openai", kind="openai")
    route = Route(name="draft", provider=cloud, model="gpt-4o-mini", egress="self-hosted")
    with pytest.raises(ValidationError, match="managed"):
        route.clean()
    assert route.effective_egress == "managed"


def test_prompts_are_rendered_without_html_escaping(db):
    # given a prompt that embeds JSON and text with markup-like characters
    from workflows.llm.gateway import render_messages
    from workflows.llm.services import prompt_template_save

    template = prompt_template_save(name="raw-render", user="Data: {{ data }}")
    # when
    messages = render_messages(template, {"data": '{"a": "<b> & \'c\'"}'})
    # then the model sees exactly what was passed
    assert messages[-1]["content"] == 'Data: {"a": "<b> & \'c\'"}'
