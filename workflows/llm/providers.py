"""Provider backends: one request in, one response (or a classified error) out.

OpenAI, Azure OpenAI and OpenAI-compatible servers go through the official `openai`
client, created once per provider configuration per process and shared by every thread
(the client and its connection pool are thread-safe). Its own retries are off
(`max_retries=0`): the gateway retries, so that each failed attempt reaches the circuit
breaker and `Retry-After` is honoured within the gateway's bounds.

Offline providers call a registered Python function instead of the network:

    from workflows.llm.providers import ChatRequest, ChatResponse, register_offline_handler

    def draft_offline(request: ChatRequest) -> ChatResponse:
        return ChatResponse(content='{"answer": "..."}', input_tokens=0, output_tokens=0)

    register_offline_handler(draft_offline)                  # every offline model
    register_offline_handler(classify, model="offline-knn")  # or one route model

The gateway treats their answers exactly like a provider's: validated, repaired, recorded
as `ModelCall` rows (with `provider_kind="offline"`), cached.
"""

from __future__ import annotations

import email.utils
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import openai

from workflows.llm.exceptions import OfflineHandlerMissing, ProviderCallError
from workflows.llm.models import Provider, ProviderKind


@dataclass(frozen=True)
class ToolCallRequest:
    """A model's request to run a tool (`arguments` is the raw JSON text it sent)."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    temperature: float
    max_tokens: int
    timeout_s: float
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class ChatResponse:
    content: str | None
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0
    finish_reason: str = ""
    response_model: str = ""
    response_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "tool_calls": [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ],
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "finish_reason": self.finish_reason,
            "response_model": self.response_model,
            "response_id": self.response_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatResponse:
        return cls(
            content=data.get("content"),
            tool_calls=[ToolCallRequest(**c) for c in data.get("tool_calls", [])],
            input_tokens=data.get("input_tokens", 0),
            output_tokens=data.get("output_tokens", 0),
            finish_reason=data.get("finish_reason", ""),
            response_model=data.get("response_model", ""),
            response_id=data.get("response_id", ""),
        )


@dataclass(frozen=True)
class EmbeddingResponse:
    vectors: list[list[float]]
    input_tokens: int = 0
    response_model: str = ""


# --- offline handlers ------------------------------------------------------------------

OfflineHandler = Callable[[ChatRequest], ChatResponse]
_offline_handlers: dict[str, OfflineHandler] = {}


def register_offline_handler(handler: OfflineHandler, *, model: str = "*") -> None:
    """Route calls to offline providers to `handler` (for `model`, or every model: "*")."""
    _offline_handlers[model] = handler


def unregister_offline_handler(*, model: str = "*") -> None:
    _offline_handlers.pop(model, None)


def _offline_handler_for(model: str) -> OfflineHandler:
    handler = _offline_handlers.get(model) or _offline_handlers.get("*")
    if handler is None:
        raise OfflineHandlerMissing(
            f"no offline handler is registered for model {model!r}; call "
            "workflows.llm.providers.register_offline_handler(fn) at start-up"
        )
    return handler


# --- openai clients, one per provider configuration per process -------------------------

_clients: dict[tuple[Any, ...], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def _api_key(provider: Provider) -> str:
    if not provider.api_key_env:
        return "unused"  # Ollama, llama.cpp and most vLLM servers take no key
    key = os.environ.get(provider.api_key_env, "")
    if not key:
        raise ProviderCallError(
            f"environment variable {provider.api_key_env} (the API key of provider "
            f"{provider.name!r}) is not set",
            error_type="missing_api_key",
            retryable=False,
            counts_against_breaker=False,
        )
    return key


def client_for(provider: Provider) -> openai.OpenAI:
    """The shared client for this provider; a new one when its configuration or key changes."""
    api_key = _api_key(provider)
    config = (
        provider.pk,
        provider.kind,
        provider.base_url,
        provider.api_version,
        api_key,  # in memory only, so a rotated key takes effect without a restart
    )
    client = _clients.get(config)
    if client is not None:
        return client
    with _clients_lock:
        client = _clients.get(config)
        if client is None:
            if provider.kind == ProviderKind.AZURE:
                client = openai.AzureOpenAI(
                    azure_endpoint=provider.base_url,
                    api_version=provider.api_version,
                    api_key=api_key,
                    max_retries=0,
                )
            else:
                client = openai.OpenAI(
                    base_url=provider.base_url or None, api_key=api_key, max_retries=0
                )
            _clients[config] = client
    return client


# --- calls -----------------------------------------------------------------------------


def chat_completion(provider: Provider, request: ChatRequest) -> ChatResponse:
    """One attempt. Raises ProviderCallError (classified) on failure."""
    if provider.kind == ProviderKind.OFFLINE:
        return _offline_handler_for(request.model)(request)
    kwargs: dict[str, Any] = {
        "model": request.model,
        "messages": request.messages,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "timeout": request.timeout_s,
    }
    if request.response_format is not None:
        kwargs["response_format"] = request.response_format
    if request.tools:
        kwargs["tools"] = request.tools
    client = client_for(provider)
    try:
        completion = client.chat.completions.create(**kwargs)
    except openai.OpenAIError as exc:
        raise classify_error(exc) from exc
    except ValueError as exc:  # a body that is not JSON at all
        raise ProviderCallError(
            f"malformed response from the provider: {_short(exc)}",
            error_type="malformed_response",
            retryable=True,
        ) from exc
    if not completion.choices:
        raise ProviderCallError(
            "the provider answered with no choices", error_type="empty_response", retryable=True
        )
    choice = completion.choices[0]
    message = choice.message
    tool_calls = [
        ToolCallRequest(id=c.id, name=c.function.name, arguments=c.function.arguments or "")
        for c in (message.tool_calls or [])
        if getattr(c, "function", None) is not None
    ]
    usage = completion.usage
    return ChatResponse(
        content=message.content,
        tool_calls=tool_calls,
        input_tokens=usage.prompt_tokens if usage else 0,
        output_tokens=usage.completion_tokens if usage else 0,
        finish_reason=choice.finish_reason or "",
        response_model=completion.model or "",
        response_id=completion.id or "",
    )


def embeddings(provider: Provider, *, model: str, texts: list[str], timeout_s: float):
    """One attempt at embedding `texts`. Raises ProviderCallError on failure."""
    if provider.kind == ProviderKind.OFFLINE:
        raise OfflineHandlerMissing(
            "offline embeddings are the knowledge plane's local model, not a gateway route"
        )
    client = client_for(provider)
    try:
        result = client.embeddings.create(model=model, input=texts, timeout=timeout_s)
    except openai.OpenAIError as exc:
        raise classify_error(exc) from exc
    vectors = [item.embedding for item in sorted(result.data, key=lambda d: d.index)]
    tokens = result.usage.prompt_tokens if result.usage else 0
    return EmbeddingResponse(vectors=vectors, input_tokens=tokens, response_model=result.model)


def classify_error(exc: openai.OpenAIError) -> ProviderCallError:
    """Map an openai exception to retryable or not, with Retry-After when the server sent it."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderCallError("the provider did not answer in time", error_type="timeout",
                                 retryable=True)  # fmt: skip
    if isinstance(exc, openai.APIConnectionError):
        return ProviderCallError(f"connection failed: {exc}", error_type="connection",
                                 retryable=True)  # fmt: skip
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        retry_after = parse_retry_after(exc.response.headers)
        if status == 429 or status >= 500 or status == 408:
            return ProviderCallError(
                f"HTTP {status}: {_short(exc)}",
                error_type=f"http_{status}",
                retryable=True,
                retry_after_s=retry_after,
            )
        # 4xx: our request or our credentials are wrong; retrying will not help, and it
        # says nothing about the provider's health.
        return ProviderCallError(
            f"HTTP {status}: {_short(exc)}",
            error_type=f"http_{status}",
            retryable=False,
            counts_against_breaker=False,
        )
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderCallError(
            f"malformed response from the provider: {_short(exc)}",
            error_type="malformed_response",
            retryable=True,
        )
    return ProviderCallError(str(exc)[:500], error_type=type(exc).__name__, retryable=False)


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), or None."""
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(float(value) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    parsed = email.utils.parsedate_tz(value)
    if parsed is None:
        return None
    return max(email.utils.mktime_tz(parsed) - time.time(), 0.0)


def _short(exc: Exception) -> str:
    return str(exc).replace("\n", " ")[:300]
