"""`model_echo`: one structured call through the gateway, the input summarised back.

For smoke tests of a real model route and for the engine benchmark (a 500 ms fake model).
"""

from __future__ import annotations

import json
import threading
from decimal import Decimal

from workflows.agents.base import DraftRequest, DraftResult, register
from workflows.exceptions import FatalStepError, RetryableStepError

TEMPLATE = "model_echo.draft"
SCHEMA = {
    "type": "object",
    "properties": {"summary": {"type": "string"}},
    "required": ["summary"],
}
_template_ready = threading.Event()


def _ensure_template() -> None:
    if _template_ready.is_set():
        return
    from workflows.llm.services import prompt_template_save

    prompt_template_save(
        name=TEMPLATE,
        system="You summarise work items in one sentence. Answer in JSON.",
        user="Summarise this work item:\n```json\n{{ input_json }}\n```",
    )
    _template_ready.set()


class ModelEchoAgent:
    name = "model_echo"

    def draft(self, request: DraftRequest) -> DraftResult:
        from workflows.llm.exceptions import ModelGatewayError, ModelUnavailable
        from workflows.llm.gateway import generate_structured

        _ensure_template()
        try:
            result = generate_structured(
                route=request.routes.get("draft", "default"),
                template=TEMPLATE,
                variables={"input_json": json.dumps(request.input, sort_keys=True)},
                schema=SCHEMA,
                work_item_id=request.item_id,
                step="draft",
                self_hosted_only=request.self_hosted_only,
            )
        except ModelUnavailable as exc:
            raise RetryableStepError(str(exc)) from exc
        except ModelGatewayError as exc:
            raise FatalStepError(str(exc)) from exc
        return DraftResult(
            fields={**request.input, **(result.fields or {})},
            confidence=0.9 if result.valid else 0.0,
            rationale="model_echo: the model's one-line summary of the input",
            valid=result.valid,
            validation_errors={"$": "; ".join(result.validation_errors)}
            if result.validation_errors
            else {},
            raw_output=result.raw_output,
            model_call_ids=result.model_call_ids,
            provider_label="offline"
            if result.is_offline
            else f"{result.provider_kind}:{result.model}",
            cost=result.cost or Decimal("0"),
        )


register(ModelEchoAgent())
