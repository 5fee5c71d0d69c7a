"""Export of the call ledger in OpenTelemetry GenAI terms.

| ModelCall field   | OTel attribute                     |
|-------------------|------------------------------------|
| operation         | gen_ai.operation.name              |
| provider_kind     | gen_ai.provider.name (gen_ai.system) |
| request_model     | gen_ai.request.model               |
| temperature       | gen_ai.request.temperature         |
| max_tokens        | gen_ai.request.max_tokens          |
| response_model    | gen_ai.response.model              |
| response_id       | gen_ai.response.id                 |
| finish_reason     | gen_ai.response.finish_reasons     |
| input_tokens      | gen_ai.usage.input_tokens          |
| output_tokens     | gen_ai.usage.output_tokens         |
| error_type        | error.type                         |
| route_name, egress, cost, cache_hit, template_*, work_item_id, step | aios.* |
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from workflows.llm.models import ModelCall

_OTEL_PROVIDER = {"openai": "openai", "azure": "azure.ai.openai"}


def model_call_span(call: ModelCall) -> dict[str, Any]:
    """One ModelCall as an OTel-style span dict (name, times, status, attributes)."""
    ended = call.created_at
    started = ended - timedelta(milliseconds=call.latency_ms)
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": call.operation,
        "gen_ai.provider.name": _OTEL_PROVIDER.get(call.provider_kind, call.provider_kind),
        "gen_ai.request.model": call.request_model,
        "gen_ai.response.model": call.response_model or None,
        "gen_ai.response.id": call.response_id or None,
        "gen_ai.response.finish_reasons": [call.finish_reason] if call.finish_reason else None,
        "gen_ai.request.temperature": call.temperature,
        "gen_ai.request.max_tokens": call.max_tokens,
        "gen_ai.usage.input_tokens": call.input_tokens,
        "gen_ai.usage.output_tokens": call.output_tokens,
        "error.type": call.error_type or None,
        "aios.route": call.route_name,
        "aios.egress": call.egress,
        "aios.cost": str(call.cost) if call.cost is not None else None,
        "aios.cache_hit": call.cache_hit,
        "aios.attempts": call.attempts,
        "aios.prompt_template.name": call.template_name or None,
        "aios.prompt_template.version": call.template_version,
        "aios.work_item_id": call.work_item_id,
        "aios.step": call.step or None,
    }
    return {
        "name": f"{call.operation} {call.request_model}",
        "kind": "CLIENT",
        "start_time": started.isoformat(),
        "end_time": ended.isoformat(),
        "status": {"code": "ERROR", "description": call.error} if call.error else {"code": "OK"},
        "attributes": {k: v for k, v in attributes.items() if v is not None},
    }
