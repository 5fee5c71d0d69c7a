"""The offline handler outside the demo tasks, and gateway errors as step errors."""

from __future__ import annotations

import json

import pytest

from workflows.agents.base import DraftRequest, get_agent
from workflows.agents.offline import offline_chat
from workflows.exceptions import FatalStepError
from workflows.llm.models import Provider, Route
from workflows.llm.providers import ChatRequest


def test_a_request_without_a_known_task_gets_an_answer_of_the_requested_shape():
    # given a prompt that is not one of the demo agents' (e.g. the model_echo agent's)
    schema = {"type": "object", "required": ["summary", "n"],
              "properties": {"summary": {"type": "string"}, "n": {"type": "integer",
                                                                   "minimum": 1}}}  # fmt: skip
    request = ChatRequest(
        model="offline", messages=[{"role": "user", "content": "Summarise this work item"}],
        temperature=0, max_tokens=100, timeout_s=1,
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )  # fmt: skip
    # when
    answer = json.loads(offline_chat(request).content)
    # then
    assert answer == {"summary": "(offline) Summarise this work item", "n": 1}


def test_a_managed_route_on_a_self_hosted_workflow_fails_the_step(demo):
    # given
    provider = Provider.objects.create(name="openai", kind="openai", api_key_env="NOPE")
    Route.objects.create(name="managed", provider=provider, model="gpt-4o-mini")
    request = DraftRequest(
        item_id=1, workflow_slug="demo-support-triage",
        input={"subject": "Hi", "body": "Where is my order?"}, draft_schema={},
        routes={"draft": "managed"}, self_hosted_only=True,
    )  # fmt: skip
    # when / then: nothing is sent, and retrying would not help
    with pytest.raises(FatalStepError, match="managed"):
        get_agent("triage").draft(request)
