"""Tools: the model may call only the step's deterministic Python functions."""

from __future__ import annotations

import json

from workflows.llm.gateway import Tool, generate_structured
from workflows.llm.models import ModelCall

PRICE_SCHEMA = {
    "type": "object",
    "properties": {"sku": {"type": "string"}, "unit_price": {"type": "number"}},
    "required": ["sku", "unit_price"],
}
PRICE_BOOK = {"fake text": 12.5}


def _price_lookup(sku: str) -> dict:
    return {"sku": sku, "unit_price": PRICE_BOOK.get(sku, 0.0)}


PRICE_TOOL = Tool(
    name="price_lookup",
    description="Unit price of a SKU from the price book",
    parameters={"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]},
    fn=_price_lookup,
)


def _draft(tools=(PRICE_TOOL,)):
    return generate_structured(route="draft", template="sales-quote",
                               variables={"customer": "ACME", "request": "1 widget"},
                               schema=PRICE_SCHEMA, tools=tools, step="price")  # fmt: skip


def test_tool_call_round_trip(make_route, quote_template, fake_openai):
    # given a model that calls the offered tool before answering
    make_route("draft", model="fake-tools")
    # when
    result = _draft()
    # then the tool ran with the model's arguments, and its result went back to the model
    assert result.valid
    (invocation,) = result.tool_invocations
    assert (invocation.name, invocation.status) == ("price_lookup", "ok")
    assert invocation.result == {"sku": "fake text", "unit_price": 12.5}
    first, second = (r["body"] for r in fake_openai.requests_for("fake-tools"))
    assert first["tools"][0]["function"]["name"] == "price_lookup"
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool"
    assert json.loads(tool_message["content"]) == invocation.result
    # and both model calls are on record, the first with what its tool call did
    asked, answered = ModelCall.objects.filter(id__in=result.model_call_ids).order_by("id")
    assert asked.tool_calls[0]["status"] == "ok"
    assert asked.finish_reason == "tool_calls"
    assert answered.finish_reason == "stop"


def test_tool_not_listed_for_the_step_is_refused_and_recorded(
    make_route, quote_template, fake_openai
):
    # given a model that asks for a tool this step does not offer
    make_route("draft", model="fake-json")
    ran = []
    fake_openai.script(
        "fake-json", {"tool_call": {"name": "delete_customer", "arguments": {"id": 1}}}
    )
    # when
    result = _draft()
    # then nothing ran, the model was told, and the refusal is on record
    assert ran == []
    (invocation,) = result.tool_invocations
    assert invocation.status == "refused"
    second = fake_openai.requests_for("fake-json")[1]["body"]
    assert "not available" in json.loads(second["messages"][-1]["content"])["error"]
    asked = ModelCall.objects.get(id=result.model_call_ids[0])
    assert asked.tool_calls[0]["name"] == "delete_customer"
    assert asked.tool_calls[0]["status"] == "refused"
    assert result.valid


def test_tool_arguments_that_break_its_schema_are_not_run(make_route, quote_template,
                                                          fake_openai):  # fmt: skip
    make_route("draft", model="fake-json")
    fake_openai.script("fake-json", {"tool_call": {"name": "price_lookup", "arguments": {}}})
    result = _draft()
    (invocation,) = result.tool_invocations
    assert invocation.status == "error"
    assert "'sku' is a required property" in invocation.error


def test_tool_that_raises_reports_the_error_to_the_model(make_route, quote_template, fake_openai):
    def broken(sku: str) -> dict:
        raise LookupError("price book offline")

    tool = Tool(name="price_lookup", description="", parameters=PRICE_TOOL.parameters, fn=broken)
    make_route("draft", model="fake-tools")
    result = _draft(tools=(tool,))
    assert result.tool_invocations[0].error == "LookupError: price book offline"
    assert result.valid
