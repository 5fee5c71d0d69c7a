"""What the demo agents share: retrieval, the prompt's context block, one gateway call,
and unpacking the model's answer into a DraftResult.

Every agent asks the model for one envelope,

    {"fields": <the workflow's draft schema>, "confidence": 0..1,
     "rationale": "...", "citations": [<chunk ids>]}

and puts what the model needs to know in the user message as a fenced block
(```` ```json context ```` … ```` ``` ````) holding {"task": ..., ..., "knowledge": [...]}.
A real OpenAI-compatible model reads it like any prompt; the offline provider
(`workflows.agents.offline`) parses it. So an agent works unchanged against either: only
the workflow version's route (`routes["draft"]`) decides which model answers.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from workflows.agents.base import DraftRequest, DraftResult
from workflows.exceptions import FatalStepError, RetryableStepError

CONTEXT_FENCE = "```json context"
_CONTEXT_RE = re.compile(r"```json context[ \t]*\n(.*?)\n```", re.DOTALL)


@dataclass(frozen=True)
class PromptSpec:
    """A shipped prompt: saved as version 1 of `name` when no version exists yet.
    Admins may then edit it (new versions); the agent never overwrites their edits."""

    name: str
    system: str
    user: str


# The user message every demo prompt ends with: the context block, then any instruction.
# `autoescape off`: the gateway renders with Django's default Context, which HTML-escapes
# variables (quotes in the JSON would arrive as &quot;); prompts are not HTML.
USER_TAIL = (
    "{% autoescape off %}{{ context_block }}\n"
    "{% if instruction %}\nThe reviewer asked for a new draft with this instruction: "
    "{{ instruction }}\n{% endif %}"
    '\nAnswer with one JSON object: {"fields": <the draft, matching the schema>, '
    '"confidence": <0 to 1, how sure you are the draft needs no correction>, '
    '"rationale": <one short paragraph>, "citations": [<ids of the knowledge chunks you used>]}.'
    "{% endautoescape %}"
)


def context_block(context: dict[str, Any]) -> str:
    text = json.dumps(context, indent=1, ensure_ascii=False, sort_keys=True, default=str)
    return f"{CONTEXT_FENCE}\n{text}\n```"


def parse_context(messages: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    """The context block of the first user message that has one (None: no block)."""
    for message in messages:
        if message.get("role") != "user" or not isinstance(message.get("content"), str):
            continue
        found = _CONTEXT_RE.search(message["content"])
        if found:
            try:
                value = json.loads(found.group(1))
            except ValueError:
                return None
            return value if isinstance(value, dict) else None
    return None


def envelope_schema(draft_schema: dict[str, Any]) -> dict[str, Any]:
    """The answer's schema: the workflow's draft schema wrapped with confidence etc.

    Draft schemas are nested under `fields`, so they must not use "#/..." references.
    """
    fields = {k: v for k, v in (draft_schema or {"type": "object"}).items() if k != "$schema"}
    return {
        "type": "object",
        "required": ["fields", "confidence", "rationale", "citations"],
        "properties": {
            "fields": fields,
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "rationale": {"type": "string"},
            "citations": {"type": "array", "items": {"type": ["integer", "string"]}},
        },
    }


# --- retrieval -------------------------------------------------------------------------


def retrieve(
    request: DraftRequest, *, query: str, default_collections: Sequence[str], k: int = 5
) -> list[Any]:
    """Knowledge chunks for `query` from the collections the version names (by slug) in
    `steps.draft.collections`, else the agent's defaults. Missing collections: no hits."""
    from workflows.knowledge.models import Collection
    from workflows.knowledge.selectors import search

    slugs = request.config.get("collections") or list(default_collections)
    ids = list(Collection.objects.filter(slug__in=slugs).values_list("id", flat=True))
    if not ids or not query.strip():
        return []
    return search(
        query=query[:2000], collection_ids=ids, k=k, work_item_id=request.item_id, step="draft"
    )


def knowledge_context(hits: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"id": h.chunk_id, "title": h.document_title, "text": h.text} for h in hits]


def citations_for(ids: Sequence[Any], hits: Sequence[Any]) -> list[dict[str, Any]]:
    """Citations for the ids the model named, keeping only chunks we actually retrieved
    (a model may invent ids; those are dropped)."""
    by_id = {h.chunk_id: h for h in hits}
    citations: list[dict[str, Any]] = []
    seen: set[int] = set()
    for raw in ids:
        try:
            chunk_id = int(raw)
        except (TypeError, ValueError):
            continue
        hit = by_id.get(chunk_id)
        if hit is None or chunk_id in seen:
            continue
        seen.add(chunk_id)
        citations.append(
            {
                "chunk_id": hit.chunk_id,
                "document_id": hit.document_id,
                "title": hit.document_title,
                "source": hit.source,
                "text": hit.text,
            }
        )
    return citations


# --- prompts ---------------------------------------------------------------------------

_prompts_ready: set[str] = set()
_prompts_lock = threading.Lock()


def prompt_ensure(spec: PromptSpec) -> None:
    """Save the shipped prompt once if no version of it exists (once per process)."""
    if spec.name in _prompts_ready:
        return
    from workflows.llm.models import PromptTemplate
    from workflows.llm.services import prompt_template_save

    with _prompts_lock:
        if spec.name in _prompts_ready:
            return
        if not PromptTemplate.objects.filter(name=spec.name).exists():
            prompt_template_save(name=spec.name, system=spec.system, user=spec.user)
        _prompts_ready.add(spec.name)


# --- the model call --------------------------------------------------------------------


@dataclass
class ModelDraft:
    """The unpacked answer plus what the agent needs to check it."""

    result: DraftResult
    tool_invocations: list[Any]


def provider_label(result: Any) -> str:
    if result.is_offline:
        return "offline"
    return f"{result.provider_kind}:{result.model}"[:32]


def draft_with_model(
    request: DraftRequest,
    *,
    prompt: PromptSpec,
    context: dict[str, Any],
    hits: Sequence[Any],
    tools: Sequence[Any] = (),
) -> ModelDraft:
    """Ask the version's draft route for the envelope and unpack it into a DraftResult.

    Gateway errors become step errors: ModelUnavailable is transient (retry the step);
    configuration problems and refused egress are fatal (a person must look). An answer
    that never matched the schema is an invalid draft with confidence 0, so the review
    policy sends it to a person with the raw output shown.
    """
    from workflows.llm.exceptions import ModelGatewayError, ModelUnavailable
    from workflows.llm.gateway import generate_structured

    template = request.config.get("template") or prompt.name
    if template == prompt.name:
        prompt_ensure(prompt)
    try:
        result = generate_structured(
            route=request.routes.get("draft", "default"),
            template=template,
            variables={
                "context_block": context_block(context),
                "instruction": request.instruction,
            },
            schema=envelope_schema(request.draft_schema),
            tools=tools,
            work_item_id=request.item_id,
            step="draft",
            self_hosted_only=request.self_hosted_only,
        )
    except ModelUnavailable as exc:
        raise RetryableStepError(str(exc)) from exc
    except ModelGatewayError as exc:  # route/template missing, render error, egress refused
        raise FatalStepError(str(exc)) from exc

    common = {
        "model_call_ids": list(result.model_call_ids),
        "provider_label": provider_label(result),
        "cost": result.cost if result.cost is not None else Decimal("0"),
        "raw_output": result.raw_output,
    }
    if not result.valid or result.fields is None:
        errors = result.validation_errors or [result.error or "invalid output"]
        draft = DraftResult(
            fields={},
            confidence=0.0,
            rationale=f"The model's answer was not usable: {result.error or errors[0]}",
            valid=False,
            validation_errors={f"${i}" if i else "$": e for i, e in enumerate(errors[:10])},
            **common,
        )
        return ModelDraft(draft, list(result.tool_invocations))
    envelope = result.fields
    confidence = min(max(float(envelope.get("confidence", 0.0)), 0.0), 1.0)
    draft = DraftResult(
        fields=dict(envelope.get("fields") or {}),
        confidence=round(confidence, 4),
        rationale=str(envelope.get("rationale", "")),
        citations=citations_for(envelope.get("citations") or [], hits),
        **common,
    )
    return ModelDraft(draft, list(result.tool_invocations))


def cap_confidence(draft: DraftResult, *, cap: float, reason: str) -> None:
    """Lower the draft's confidence to at most `cap` and say why in its rationale."""
    draft.confidence = min(draft.confidence, cap)
    draft.rationale = f"{draft.rationale}\n\nCheck: {reason}".strip()
