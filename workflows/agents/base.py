"""What an agent is: something that turns a work item into a structured draft.

Agents run inside the draft step, outside any database transaction. They may call the
model gateway, the knowledge plane and tools; they return a DraftResult and never change
an item themselves (the engine applies the result).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


@dataclass
class DraftRequest:
    item_id: int
    workflow_slug: str
    input: dict[str, Any]
    draft_schema: dict[str, Any]
    routes: dict[str, str]
    self_hosted_only: bool
    instruction: str = ""  # a reviewer's redraft instruction
    previous_fields: dict[str, Any] | None = None
    attempt: int = 1
    # The version's draft-step settings, e.g. {"collections": ["sales-playbook"],
    # "template": "sales-quote-draft"} (plus the engine's retry keys, which agents ignore).
    config: dict[str, Any] = field(default_factory=dict)


@dataclass
class DraftResult:
    fields: dict[str, Any]
    confidence: float
    rationale: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)
    valid: bool = True
    validation_errors: dict[str, str] = field(default_factory=dict)
    raw_output: str = ""
    model_call_ids: list[int] = field(default_factory=list)
    provider_label: str = ""
    cost: Decimal = Decimal("0")


class Agent(Protocol):
    name: str

    def draft(self, request: DraftRequest) -> DraftResult: ...


_REGISTRY: dict[str, Agent] = {}


def register(agent: Agent) -> Agent:
    _REGISTRY[agent.name] = agent
    return agent


def get_agent(name: str) -> Agent:
    from workflows.agents import builtin, model_echo  # noqa: F401  (registers agents)

    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no agent named {name!r}; known: {sorted(_REGISTRY)}") from None


def agent_names() -> list[str]:
    from workflows.agents import builtin, model_echo  # noqa: F401

    return sorted(_REGISTRY)
