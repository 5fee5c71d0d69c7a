"""Structured drafts through the real openai client against the fake server."""

from __future__ import annotations

import importlib
import json
from decimal import Decimal

import pytest
from django.apps import apps as django_apps

from tests.llm.conftest import QUOTE_SCHEMA
from workflows.llm import providers
from workflows.llm.accounting import model_call_span
from workflows.llm.exceptions import ModelUnavailable
from workflows.llm.gateway import PromptRenderError, embed, generate_structured
from workflows.llm.models import ModelCall, Route
from workflows.llm.providers import ChatResponse


def _draft(route: str = "draft", **overrides):
    arguments = {
        "route": route,
        "template": "sales-quote",
        "variables": {"customer": "ACME GmbH", "request": "10 widgets"},
        "schema": QUOTE_SCHEMA,
        "work_item_id": 42,
        "step": "draft",
    }
    arguments.update(overrides)
    return generate_structured(**arguments)


def test_structured_draft_end_to_end(make_route, quote_template, fake_openai):
    # given a route to a model that answers JSON
    make_route("draft", model="fake-json")
    # when
    result = _draft()
    # then the validated fields come back with the prompt version used
    assert result.valid, result.error
    assert set(result.fields) == {"customer", "total", "lines"}
    assert result.template_name == "sales-quote"
    assert result.template_version == quote_template.version
    assert result.provider_kind == "compatible"
    assert not result.repaired
    # and the step's schema went out as the response format, with the rendered prompt
    (request,) = fake_openai.requests_for("fake-json")
    body = request["body"]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == QUOTE_SCHEMA
    assert "Customer: ACME GmbH" in body["messages"][1]["content"]
    # and one ModelCall row records it
    call = ModelCall.objects.get(id__in=result.model_call_ids)
    assert call.work_item_id == 42
    assert call.step == "draft"
    assert call.request_model == "fake-json"
    assert call.prompt_template_id == quote_template.id
    assert call.template_version == quote_template.version
    assert json.loads(call.output) == result.fields
    assert call.messages[1]["content"].startswith("Customer: ACME GmbH")
    assert call.error == ""


def test_invalid_json_is_repaired_with_one_more_call(make_route, quote_template, fake_openai):
    # given a model whose first answer is not JSON
    make_route("draft", model="fake-bad-json-then-good")
    # when
    result = _draft()
    # then the repair call fixed it
    assert result.valid
    assert result.repaired
    assert len(result.model_call_ids) == 2
    repair_request = fake_openai.requests_for("fake-bad-json-then-good")[1]["body"]
    assert repair_request["messages"][-2]["role"] == "assistant"
    assert "not valid JSON" in repair_request["messages"][-1]["content"]


def test_schema_mismatch_is_repaired(make_route, quote_template, fake_openai):
    # given a model that first answers JSON of the wrong shape
    make_route("draft", model="fake-json")
    fake_openai.script("fake-json", {"content": '{"customer": "ACME", "total": -3}'})
    # when
    result = _draft()
    # then the validation errors went back to the model, and its second answer is valid
    assert result.valid
    assert result.repaired
    repair_prompt = fake_openai.requests_for("fake-json")[1]["body"]["messages"][-1]["content"]
    assert "'lines' is a required property" in repair_prompt
    assert "total: -3 is less than the minimum of 0" in repair_prompt


def test_still_invalid_after_repair_returns_raw_output_for_review(
    make_route, quote_template, fake_openai
):
    # given a model that never answers JSON
    make_route("draft", model="fake-bad-json")
    # when
    result = _draft()
    # then the result is not valid, and carries what the model said for the reviewer
    assert not result.valid
    assert result.fields is None
    assert result.raw_output.startswith("Sure! Here is the JSON")
    assert "after one repair attempt" in result.error
    assert result.validation_errors
    assert len(fake_openai.requests_for("fake-bad-json")) == 2


def test_cost_and_tokens_are_recorded(make_route, quote_template, settings):
    # given a price table for the model (per 1M tokens)
    settings.AIOS_MODEL_PRICES = {"fake-json": {"input": "2.00", "output": "8.00"}}
    make_route("draft", model="fake-json")
    # when
    result = _draft()
    # then tokens, latency and cost are on the row and in the result
    call = ModelCall.objects.get(id=result.model_call_ids[0])
    assert call.input_tokens > 0
    assert call.output_tokens > 0
    assert call.latency_ms > 0
    expected = (Decimal(call.input_tokens) * 2 + Decimal(call.output_tokens) * 8) / 1_000_000
    assert call.cost == expected.quantize(Decimal("0.00000001"))
    assert result.cost == call.cost
    assert (result.input_tokens, result.output_tokens) == (call.input_tokens, call.output_tokens)


def test_model_without_price_has_unknown_cost(make_route, quote_template):
    # given no price for the model
    make_route("draft", model="fake-json")
    # when
    result = _draft()
    # then its cost is unknown, not zero
    assert result.cost is None
    assert ModelCall.objects.get(id=result.model_call_ids[0]).cost is None


def test_rerun_of_a_step_is_answered_from_the_cache(make_route, quote_template, fake_openai,
                                                    settings):  # fmt: skip
    # given a step that already ran
    settings.AIOS_MODEL_PRICES = {"fake-json": {"input": "2.00", "output": "8.00"}}
    make_route("draft", model="fake-json")
    first = _draft()
    # when it runs again with the same input
    again = _draft()
    # then no request reached the model, the answer is the same and it cost nothing
    assert len(fake_openai.requests_for("fake-json")) == 1
    assert again.cache_hit
    assert again.fields == first.fields
    assert again.cost == Decimal(0)
    call = ModelCall.objects.get(id=again.model_call_ids[0])
    assert call.cache_hit
    assert call.cost == Decimal(0)
    assert call.cache_key == ModelCall.objects.get(id=first.model_call_ids[0]).cache_key


def test_route_without_cache_always_asks_the_model(make_route, quote_template, fake_openai):
    make_route("draft", model="fake-json", cache_enabled=False)
    _draft()
    result = _draft()
    assert not result.cache_hit
    assert len(fake_openai.requests_for("fake-json")) == 2


def test_prompt_missing_a_variable_is_refused(make_route, quote_template, fake_openai):
    make_route("draft", model="fake-json")
    with pytest.raises(PromptRenderError, match="request"):
        _draft(variables={"customer": "ACME"})
    assert fake_openai.requests == []


def test_stored_messages_and_output_are_redacted_when_the_route_says_so(
    make_route, quote_template, fake_openai
):
    # given a route that redacts PII, and a request carrying an email, an IBAN and a phone
    make_route("draft", model="fake-json", redact_pii=True)
    fake_openai.script("fake-json", {"content": json.dumps(
        {"customer": "mail ann@example.com", "total": 1, "lines": []})})  # fmt: skip
    variables = {
        "customer": "Ann <ann@example.com>, +49 30 1234 5678",
        "request": "pay from DE89 3704 0044 0532 0130 00",
    }
    # when
    result = _draft(variables=variables)
    # then the model got the real text, the caller gets the real answer ...
    sent = fake_openai.requests_for("fake-json")[0]["body"]["messages"][1]["content"]
    assert "ann@example.com" in sent
    assert result.fields["customer"] == "mail ann@example.com"
    # ... and the ledger keeps only the redacted text
    call = ModelCall.objects.get(id=result.model_call_ids[0])
    stored = call.messages[1]["content"]
    assert call.redacted
    assert "ann@example.com" not in stored
    assert "[REDACTED:email]" in stored
    assert "DE89" not in stored
    assert "[REDACTED:iban]" in stored
    assert "1234 5678" not in stored
    assert "[REDACTED:phone]" in stored
    assert "[REDACTED:email]" in call.output


def test_offline_route_calls_the_registered_handler(
    default_route, quote_template, fake_openai, monkeypatch
):
    # given the default offline route and a registered handler (the app's own handler,
    # registered at start-up, is put back afterwards)
    seen = []

    def handler(request):
        seen.append(request)
        return ChatResponse(content='{"customer": "ACME", "total": 0, "lines": []}')

    monkeypatch.setitem(providers._offline_handlers, "*", handler)
    # when
    result = _draft(route="default")
    # then no HTTP request was made, and the call is labelled offline and recorded
    assert fake_openai.requests == []
    assert result.valid
    assert result.is_offline
    assert seen[0].response_format["json_schema"]["schema"] == QUOTE_SCHEMA
    call = ModelCall.objects.get(id=result.model_call_ids[0])
    assert call.provider_kind == "offline"
    assert call.cost == Decimal(0)


def test_offline_route_without_a_handler_is_unavailable(default_route, quote_template, monkeypatch):
    # given no handler (the app registers one at start-up; put back afterwards)
    monkeypatch.delitem(providers._offline_handlers, "*", raising=False)
    with pytest.raises(ModelUnavailable, match="no offline handler"):
        _draft(route="default")


def test_model_call_exports_as_an_otel_span(make_route, quote_template):
    make_route("draft", model="fake-json")
    result = _draft()
    span = model_call_span(ModelCall.objects.get(id=result.model_call_ids[0]))
    attributes = span["attributes"]
    assert span["name"] == "chat fake-json"
    assert span["status"] == {"code": "OK"}
    assert attributes["gen_ai.operation.name"] == "chat"
    assert attributes["gen_ai.request.model"] == "fake-json"
    assert attributes["gen_ai.usage.input_tokens"] > 0
    assert attributes["gen_ai.usage.output_tokens"] > 0
    assert attributes["aios.prompt_template.version"] == result.template_version


def test_embeddings_go_through_the_gateway(make_route, fake_openai):
    make_route("embed", model="fake-embed")
    result = embed(route="embed", texts=["a widget", "a gadget"], step="index")
    assert len(result.vectors) == 2
    assert len(result.vectors[0]) == fake_openai.embedding_dim
    call = ModelCall.objects.get(id=result.model_call_ids[0])
    assert call.operation == "embeddings"
    assert call.input_tokens > 0


def test_default_route_exists_with_no_configuration(db):
    # given an empty route table (a migrated database before any configuration)
    Route.objects.all().delete()
    migration = importlib.import_module("workflows.llm.migrations.0002_default_offline_route")
    # when the migration's data step runs
    migration.create_defaults(django_apps, None)
    # then the default route is offline and self-hosted
    route = Route.objects.select_related("provider").get(name="default")
    assert route.provider.kind == "offline"
    assert route.effective_egress == "self-hosted"
