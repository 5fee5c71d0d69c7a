"""The one entry point for every model call.

    from workflows.llm.gateway import Tool, generate_structured

    result = generate_structured(
        route="sales-quote-draft", template="sales-quote", variables={"request": text},
        schema=QUOTE_SCHEMA, tools=[price_lookup], work_item_id=item.id, step="draft",
        self_hosted_only=workflow.self_hosted_only,
    )
    if result.valid: ... result.fields ...
    else: ... send to review showing result.raw_output and result.error ...

What happens on the way (docs/models.md has the detail):

- The route and its fallback chain are loaded; with `self_hosted_only` any managed route in
  the chain refuses the call (`EgressRefused`) before anything is sent.
- The prompt template's latest version is rendered; the step's schema is sent as the
  `response_format` (`json_schema`); only the step's `tools` are offered and executed.
- Per route: response cache → circuit breaker → up to `max_attempts` attempts with
  exponential backoff and jitter, honouring `Retry-After`; on failure the next route.
- Each request (cache hits and refusals included) is one `ModelCall` row, written in its
  own short autocommit after the HTTP call; no transaction is open while a model thinks.
- The answer is parsed and validated with `jsonschema`; an invalid answer gets one repair
  call that quotes the errors; still invalid → `valid=False` with the raw output.

Call it outside `transaction.atomic` (a step's I/O phase), from as many threads as you like.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import jsonschema
from django.conf import settings
from django.template import Context, Engine

from workflows.llm import breaker, pricing, providers, redaction, selectors, services
from workflows.llm.exceptions import (
    EgressRefused,
    ModelUnavailable,
    OfflineHandlerMissing,
    ProviderCallError,
    TemplateNotFound,
)
from workflows.llm.models import Egress, Operation, PromptTemplate, ProviderKind, Route
from workflows.llm.providers import ChatRequest, ChatResponse

REPAIR_INSTRUCTION = (
    "Your previous answer was not valid JSON for the required schema.\n"
    "Problems:\n{errors}\n"
    "Answer again with only a JSON object that matches the schema. No prose, no code fences."
)


# --- public types ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """A deterministic Python function the model may call during one step.

    `parameters` is the JSON schema of its keyword arguments (validated before the call);
    `fn(**arguments)` returns something JSON-serialisable.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    fn: Callable[..., Any]

    def spec(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }


@dataclass(frozen=True)
class ToolInvocation:
    """What happened to one tool call the model asked for."""

    name: str
    arguments: Any
    status: str  # "ok", "refused" (not listed for the step), "error"
    result: Any = None
    error: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "arguments": self.arguments,
            "status": self.status,
            "result": self.result,
            "error": self.error,
        }


@dataclass
class ChatResult:
    """One model completion through a route chain (see `chat`)."""

    response: ChatResponse
    route: str
    provider_kind: str
    model: str
    model_call_ids: list[int]
    cache_hit: bool
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    latency_ms: float


@dataclass
class StructuredResult:
    """The outcome of `generate_structured`.

    `valid` → `fields` holds the schema-valid answer. Otherwise `fields` is None, `error`
    says why and `raw_output` holds what the model said (for the reviewer to see).
    Totals (tokens, cost, latency) cover every `ModelCall` in `model_call_ids`; `cost` is
    None when a model without a price was used.
    """

    fields: dict[str, Any] | None
    valid: bool
    raw_output: str
    error: str | None
    validation_errors: list[str]
    repaired: bool
    model_call_ids: list[int]
    template_name: str
    template_version: int
    route: str
    provider_kind: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    latency_ms: float
    cache_hit: bool
    tool_invocations: list[ToolInvocation] = field(default_factory=list)

    @property
    def is_offline(self) -> bool:
        return self.provider_kind == ProviderKind.OFFLINE


@dataclass(frozen=True)
class EmbeddingResult:
    vectors: list[list[float]]
    route: str
    model: str
    model_call_ids: list[int]
    input_tokens: int
    cost: Decimal | None
    latency_ms: float


# --- context of one gateway call -------------------------------------------------------


@dataclass
class _Context:
    chain: list[Route]
    work_item_id: int | None
    step: str
    template: PromptTemplate | None
    calls: list[_CallRecord] = field(default_factory=list)


@dataclass(frozen=True)
class _CallRecord:
    id: int
    ok: bool
    cache_hit: bool
    input_tokens: int
    output_tokens: int
    cost: Decimal | None
    latency_ms: float


# --- public functions ------------------------------------------------------------------


def generate_structured(
    *,
    route: str,
    template: str,
    variables: dict[str, Any],
    schema: dict[str, Any],
    tools: Sequence[Tool] = (),
    work_item_id: int | None = None,
    step: str = "",
    self_hosted_only: bool = False,
) -> StructuredResult:
    """Render `template`, ask the route's model for JSON matching `schema`, validate it.

    Raises RouteNotFound / TemplateNotFound / PromptRenderError (configuration),
    EgressRefused (nothing sent) and ModelUnavailable (every route failed: transient,
    retry the step later). A model that answers badly is not an exception: the result
    says `valid=False`.
    """
    validator = _validator(schema)
    chain = selectors.route_chain_get(name=route)
    prompt = selectors.prompt_template_latest(name=template)
    ctx = _Context(chain=chain, work_item_id=work_item_id, step=step, template=prompt)
    _check_egress(ctx, route_name=route, self_hosted_only=self_hosted_only)

    messages = render_messages(prompt, variables)
    response_format = {
        "type": "json_schema",
        "json_schema": {"name": _schema_name(step or template), "schema": schema},
    }
    invocations: list[ToolInvocation] = []
    answer = _complete_with_tools(ctx, messages, response_format, tools, invocations)
    raw = answer.response.content or ""
    fields, errors = _validate(raw, validator)
    repaired = False
    error: str | None = None
    if errors:
        repaired = True
        repair_messages = [
            *messages,
            {"role": "assistant", "content": raw},
            {"role": "user", "content": REPAIR_INSTRUCTION.format(errors="\n".join(errors))},
        ]
        try:
            answer = _complete_with_tools(ctx, repair_messages, response_format, tools, invocations)
        except ModelUnavailable as exc:
            error = f"the repair call failed: {exc}"
        else:
            raw = answer.response.content or ""
            fields, errors = _validate(raw, validator)
        if errors and error is None:
            error = "the output did not match the schema after one repair attempt"
    return _structured_result(ctx, answer, fields, raw, errors, error, repaired, invocations)


def chat(
    *,
    route: str,
    messages: list[dict[str, Any]],
    response_format: dict[str, Any] | None = None,
    tools: Sequence[Tool] = (),
    work_item_id: int | None = None,
    step: str = "",
    self_hosted_only: bool = False,
) -> ChatResult:
    """One completion through `route` and its fallbacks (cache, breaker, retries, ledger).

    Tool specs are offered but not executed: the caller handles `response.tool_calls`.
    """
    chain = selectors.route_chain_get(name=route)
    ctx = _Context(chain=chain, work_item_id=work_item_id, step=step, template=None)
    _check_egress(ctx, route_name=route, self_hosted_only=self_hosted_only)
    return _complete(ctx, messages, response_format, [t.spec() for t in tools])


def embed(
    *,
    route: str,
    texts: Sequence[str],
    work_item_id: int | None = None,
    step: str = "",
    self_hosted_only: bool = False,
) -> EmbeddingResult:
    """Embed `texts` through an embeddings route (breaker, retries, fallback, ledger)."""
    chain = selectors.route_chain_get(name=route)
    ctx = _Context(chain=chain, work_item_id=work_item_id, step=step, template=None)
    _check_egress(ctx, route_name=route, self_hosted_only=self_hosted_only)
    failures = []
    for candidate in chain:
        provider = candidate.provider
        if not breaker.allow(provider):
            failures.append(_refuse_breaker_open(ctx, candidate, [], Operation.EMBEDDINGS))
            continue
        started = time.perf_counter()
        try:
            result, attempts = _with_retries(
                candidate,
                lambda c=candidate: providers.embeddings(
                    c.provider, model=c.model, texts=list(texts), timeout_s=c.timeout_s
                ),
            )
        except ProviderCallError as exc:
            latency = (time.perf_counter() - started) * 1000
            _record(ctx, candidate, operation=Operation.EMBEDDINGS, messages=list(texts),
                    latency_ms=latency, attempts=exc.attempts, error=exc)  # fmt: skip
            failures.append(f"{candidate.name}: {exc}")
            continue
        latency = (time.perf_counter() - started) * 1000
        cost = pricing.cost_for(model=candidate.model, input_tokens=result.input_tokens,
                                output_tokens=0)  # fmt: skip
        _record(ctx, candidate, operation=Operation.EMBEDDINGS, messages=list(texts),
                output=f"{len(result.vectors)} vectors", input_tokens=result.input_tokens,
                latency_ms=latency, attempts=attempts, cost=cost,
                response_model=result.response_model)  # fmt: skip
        return EmbeddingResult(
            vectors=result.vectors,
            route=candidate.name,
            model=candidate.model,
            model_call_ids=[c.id for c in ctx.calls],
            input_tokens=result.input_tokens,
            cost=cost,
            latency_ms=latency,
        )
    raise ModelUnavailable(
        f"no route could embed: {'; '.join(failures)}", model_call_ids=[c.id for c in ctx.calls]
    )


def validate_output(raw: str, schema: dict[str, Any]) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse and validate a model's answer: (fields, []) or (None, [error, ...])."""
    return _validate(raw, _validator(schema))


_validators: dict[str, Any] = {}


def _validator(schema: dict[str, Any]) -> Any:
    """A checked validator per distinct schema (checking a schema costs milliseconds)."""
    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _validators.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)
        if len(_validators) > 1000:
            _validators.clear()
        _validators[key] = validator
    return validator


def _validate(raw: str, validator: Any) -> tuple[dict[str, Any] | None, list[str]]:
    text = raw.strip()
    if text.startswith("```"):  # tolerate a fenced answer from less obedient models
        text = text.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(text)
    except ValueError as exc:
        return None, [f"not valid JSON: {exc}"]
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if errors:
        return None, [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                      for e in errors[:20]]  # fmt: skip
    if not isinstance(value, dict):
        return None, ["(root): the answer must be a JSON object"]
    return value, []


# --- prompts ---------------------------------------------------------------------------

_MISSING = "\x00MISSING:%s\x00"
_engine = Engine(autoescape=False, string_if_invalid=_MISSING)
_compiled: dict[int, tuple[Any, Any]] = {}
_compiled_lock = threading.Lock()


class PromptRenderError(TemplateNotFound):
    """The template uses a variable the caller did not pass."""


def render_messages(template: PromptTemplate, variables: dict[str, Any]) -> list[dict[str, str]]:
    """System and user messages of `template` (Django template syntax, no HTML escaping)."""
    compiled = _compiled.get(template.pk)
    if compiled is None:  # versions are immutable, so compiled templates never go stale
        with _compiled_lock:
            compiled = (_engine.from_string(template.system), _engine.from_string(template.user))
            _compiled[template.pk] = compiled
    messages = []
    for role, compiled_part, source in (
        ("system", compiled[0], template.system),
        ("user", compiled[1], template.user),
    ):
        if not source:
            continue
        text = compiled_part.render(Context(variables, autoescape=False))  # prompts, not HTML
        if "\x00MISSING:" in text:
            missing = sorted(set(text.split("\x00MISSING:")[1:]))
            names = ", ".join(m.split("\x00")[0] or "?" for m in missing)
            raise PromptRenderError(
                f"prompt {template} needs variables that were not passed: {names}"
            )
        messages.append({"role": role, "content": text})
    return messages


def _schema_name(text: str) -> str:
    name = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in text)[:64]
    return name or "output"


# --- egress ----------------------------------------------------------------------------


def _check_egress(ctx: _Context, *, route_name: str, self_hosted_only: bool) -> None:
    if not self_hosted_only:
        return
    for candidate in ctx.chain:
        if candidate.effective_egress == Egress.MANAGED:
            exc = EgressRefused(
                route=route_name,
                offending_route=candidate.name,
                provider=candidate.provider.name,
            )
            _record(ctx, ctx.chain[0], operation=Operation.CHAT, messages=[], attempts=0,
                    error=ProviderCallError(str(exc), error_type="egress_refused",
                                            retryable=False))  # fmt: skip
            raise exc


# --- the chain: cache → breaker → retries → fallback ------------------------------------


def _complete_with_tools(
    ctx: _Context,
    messages: list[dict[str, Any]],
    response_format: dict[str, Any] | None,
    tools: Sequence[Tool],
    invocations: list[ToolInvocation],
) -> ChatResult:
    """Complete, running the tools the model asks for (only the step's), until it answers."""
    allowed = {tool.name: tool for tool in tools}
    specs = [tool.spec() for tool in tools]
    messages = list(messages)
    for _round in range(settings.AIOS_LLM_MAX_TOOL_ROUNDS + 1):
        result = _complete(ctx, messages, response_format, specs)
        calls = result.response.tool_calls
        if not calls or _round == settings.AIOS_LLM_MAX_TOOL_ROUNDS:
            return result
        messages.append(
            {
                "role": "assistant",
                "content": result.response.content,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.name, "arguments": c.arguments},
                    }
                    for c in calls
                ],
            }
        )
        round_invocations = [_run_tool(call, allowed) for call in calls]
        for call, invocation in zip(calls, round_invocations, strict=True):
            if invocation.status == "ok":
                content = json.dumps(invocation.result, default=str)
            else:
                content = json.dumps({"error": invocation.error})
            messages.append({"role": "tool", "tool_call_id": call.id, "content": content})
        invocations.extend(round_invocations)
        services.model_call_tool_calls_set(
            call_id=result.model_call_ids[-1],
            tool_calls=[i.to_json() for i in round_invocations],
            redact=_redacts(ctx.chain[0]),
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _run_tool(call: providers.ToolCallRequest, allowed: dict[str, Tool]) -> ToolInvocation:
    tool = allowed.get(call.name)
    if tool is None:
        return ToolInvocation(
            name=call.name,
            arguments=call.arguments,
            status="refused",
            error=f"tool {call.name!r} is not available in this step",
        )
    try:
        arguments = json.loads(call.arguments or "{}")
        jsonschema.validate(arguments, tool.parameters)
    except (ValueError, jsonschema.ValidationError) as exc:
        message = exc.message if isinstance(exc, jsonschema.ValidationError) else str(exc)
        return ToolInvocation(name=call.name, arguments=call.arguments, status="error",
                              error=f"invalid arguments: {message}")  # fmt: skip
    try:
        value = tool.fn(**arguments)
    except Exception as exc:  # a tool's failure is told to the model, not raised
        return ToolInvocation(name=call.name, arguments=arguments, status="error",
                              error=f"{type(exc).__name__}: {exc}")  # fmt: skip
    return ToolInvocation(name=call.name, arguments=arguments, status="ok", result=value)


def _complete(
    ctx: _Context,
    messages: list[dict[str, Any]],
    response_format: dict[str, Any] | None,
    tool_specs: list[dict[str, Any]],
) -> ChatResult:
    failures: list[str] = []
    first_call = len(ctx.calls)
    for candidate in ctx.chain:
        provider = candidate.provider
        request = ChatRequest(
            model=candidate.model,
            messages=messages,
            temperature=candidate.temperature,
            max_tokens=candidate.max_tokens,
            timeout_s=candidate.timeout_s,
            response_format=response_format,
            tools=tool_specs,
        )
        key = cache_key(candidate, request) if candidate.cache_enabled else ""
        if key:
            started = time.perf_counter()
            cached = selectors.response_cache_get(key=key)
            if cached is not None:
                response = ChatResponse.from_json(cached)
                services.response_cache_hit(key=key)
                latency = (time.perf_counter() - started) * 1000
                _record(ctx, candidate, operation=Operation.CHAT, messages=messages,
                        response=response, latency_ms=latency, attempts=0, cost=Decimal(0),
                        cache_hit=True, cache_key=key, count_tokens=False)  # fmt: skip
                return _chat_result(ctx, candidate, response, first_call)
        is_offline = provider.kind == ProviderKind.OFFLINE
        if not is_offline and not breaker.allow(provider):
            failures.append(_refuse_breaker_open(ctx, candidate, messages, Operation.CHAT))
            continue
        started = time.perf_counter()
        try:
            response, attempts = _with_retries(
                candidate, lambda r=request, p=provider: providers.chat_completion(p, r)
            )
        except ProviderCallError as exc:
            latency = (time.perf_counter() - started) * 1000
            _record(ctx, candidate, operation=Operation.CHAT, messages=messages,
                    latency_ms=latency, attempts=exc.attempts, error=exc,
                    cache_key=key)  # fmt: skip
            failures.append(f"route {candidate.name!r}: {exc}")
            continue
        latency = (time.perf_counter() - started) * 1000
        cost = pricing.cost_for(model=candidate.model, input_tokens=response.input_tokens,
                                output_tokens=response.output_tokens)  # fmt: skip
        if is_offline and cost is None:
            cost = Decimal(0)
        _record(ctx, candidate, operation=Operation.CHAT, messages=messages, response=response,
                latency_ms=latency, attempts=attempts, cost=cost, cache_key=key)  # fmt: skip
        if key:
            services.response_cache_put(key=key, response=response.to_json())
        return _chat_result(ctx, candidate, response, first_call)
    raise ModelUnavailable(
        "no route could answer: " + "; ".join(failures),
        model_call_ids=[c.id for c in ctx.calls[first_call:]],
    )


def _with_retries(route: Route, send: Callable[[], Any]) -> tuple[Any, int]:
    """Up to `route.max_attempts` attempts; every failure is reported to the breaker."""
    provider = route.provider
    guarded = provider.kind != ProviderKind.OFFLINE
    for attempt in range(1, route.max_attempts + 1):
        try:
            try:
                value = send()
            except OfflineHandlerMissing as exc:
                raise ProviderCallError(str(exc), error_type="offline_handler_missing",
                                        retryable=False,
                                        counts_against_breaker=False) from exc  # fmt: skip
        except ProviderCallError as exc:
            exc.attempts = attempt
            if guarded and exc.counts_against_breaker:
                breaker.record_failure(provider, exc)
            if not exc.retryable or attempt == route.max_attempts:
                raise
            delay = _backoff_s(attempt, exc.retry_after_s)
            if delay is None:
                exc.args = (f"{exc} (Retry-After {exc.retry_after_s:.0f}s is too long to wait)",)
                raise
            if guarded and not breaker.allow(provider):
                exc.args = (f"{exc} (circuit breaker opened)",)
                raise
            time.sleep(delay)
            continue
        if guarded:
            breaker.record_success(provider)
        return value, attempt
    raise AssertionError("unreachable")  # pragma: no cover


def _backoff_s(attempt: int, retry_after_s: float | None) -> float | None:
    """Exponential backoff with jitter, at least what Retry-After asked; None: too long."""
    if retry_after_s is not None and retry_after_s > settings.AIOS_LLM_RETRY_AFTER_MAX_S:
        return None
    base = min(settings.AIOS_LLM_BACKOFF_S * 2 ** (attempt - 1), settings.AIOS_LLM_BACKOFF_MAX_S)
    delay = base * random.uniform(0.5, 1.0)  # noqa: S311 (jitter, not security)
    return max(delay, retry_after_s or 0.0)


def _refuse_breaker_open(ctx: _Context, route: Route, messages: list[Any], operation: str) -> str:
    message = f"circuit breaker open for provider {route.provider.name!r}; nothing sent"
    _record(ctx, route, operation=operation, messages=messages, attempts=0,
            error=ProviderCallError(message, error_type="breaker_open",
                                    retryable=False))  # fmt: skip
    return f"route {route.name!r}: {message}"


def cache_key(route: Route, request: ChatRequest) -> str:
    """sha256 of everything that shapes the answer: endpoint, model, messages, schema,
    tools, temperature, max tokens."""
    provider = route.provider
    payload = {
        "provider": [provider.pk, provider.kind, provider.base_url, provider.api_version],
        "model": request.model,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "response_format": request.response_format,
        "tools": request.tools,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


# --- accounting ------------------------------------------------------------------------


def _redacts(route: Route) -> bool:
    return route.redact_pii or route.provider.redact_pii


def _record(
    ctx: _Context,
    route: Route,
    *,
    operation: str,
    messages: list[Any],
    response: ChatResponse | None = None,
    output: str = "",
    input_tokens: int = 0,
    latency_ms: float = 0.0,
    attempts: int = 1,
    cost: Decimal | None = Decimal(0),
    error: ProviderCallError | None = None,
    cache_hit: bool = False,
    cache_key: str = "",
    count_tokens: bool = True,
    response_model: str = "",
) -> int:
    redact = _redacts(route)
    output_tokens = 0
    tool_calls: list[dict[str, Any]] = []
    finish_reason = response_id = ""
    if response is not None:
        output = response.content or ""
        tool_calls = [
            {"name": c.name, "arguments": c.arguments, "status": "requested"}
            for c in response.tool_calls
        ]
        finish_reason, response_id = response.finish_reason, response.response_id
        response_model = response.response_model
        if count_tokens:
            input_tokens, output_tokens = response.input_tokens, response.output_tokens
    if redact:
        messages = redaction.redact_value(messages)
        output = redaction.redact_text(output)
        tool_calls = redaction.redact_value(tool_calls)
    template = ctx.template
    call_id = services.model_call_record(
        work_item_id=ctx.work_item_id,
        step=ctx.step[:64],
        operation=operation,
        provider=route.provider,
        provider_kind=route.provider.kind,
        route=route,
        route_name=route.name,
        egress=route.effective_egress,
        request_model=route.model,
        response_model=response_model[:128],
        temperature=route.temperature if operation == Operation.CHAT else None,
        max_tokens=route.max_tokens if operation == Operation.CHAT else None,
        prompt_template=template,
        template_name=template.name if template else "",
        template_version=template.version if template else None,
        messages=messages,
        output=output,
        tool_calls=tool_calls,
        finish_reason=finish_reason[:32],
        response_id=response_id[:128],
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        latency_ms=round(latency_ms, 3),
        cost=cost if error is None else Decimal(0),
        attempts=attempts,
        error=str(error) if error else "",
        error_type=error.error_type if error else "",
        cache_hit=cache_hit,
        cache_key=cache_key,
        redacted=redact,
    )
    ctx.calls.append(
        _CallRecord(
            id=call_id,
            ok=error is None,
            cache_hit=cache_hit,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            cost=cost if error is None else Decimal(0),
            latency_ms=latency_ms,
        )
    )
    return call_id


def _chat_result(
    ctx: _Context, route: Route, response: ChatResponse, first_call: int
) -> ChatResult:
    calls = ctx.calls[first_call:]
    return ChatResult(
        response=response,
        route=route.name,
        provider_kind=route.provider.kind,
        model=route.model,
        model_call_ids=[c.id for c in calls],
        cache_hit=calls[-1].cache_hit,
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        cost=_total_cost(calls),
        latency_ms=sum(c.latency_ms for c in calls),
    )


def _total_cost(calls: Sequence[_CallRecord]) -> Decimal | None:
    if any(c.cost is None for c in calls):
        return None
    return sum((c.cost for c in calls if c.cost is not None), Decimal(0))


def _structured_result(
    ctx: _Context,
    answer: ChatResult,
    fields: dict[str, Any] | None,
    raw: str,
    errors: list[str],
    error: str | None,
    repaired: bool,
    invocations: list[ToolInvocation],
) -> StructuredResult:
    calls = ctx.calls
    answered = [c for c in calls if c.ok]
    template = ctx.template
    assert template is not None
    return StructuredResult(
        fields=fields if not errors else None,
        valid=not errors and error is None,
        raw_output=raw,
        error=error,
        validation_errors=errors,
        repaired=repaired,
        model_call_ids=[c.id for c in calls],
        template_name=template.name,
        template_version=template.version,
        route=answer.route,
        provider_kind=answer.provider_kind,
        model=answer.model,
        input_tokens=sum(c.input_tokens for c in calls),
        output_tokens=sum(c.output_tokens for c in calls),
        cost=_total_cost(calls),
        latency_ms=sum(c.latency_ms for c in calls),
        cache_hit=bool(answered) and all(c.cache_hit for c in answered),
        tool_invocations=invocations,
    )
