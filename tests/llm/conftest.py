"""Model-plane fixtures: the fake OpenAI server, providers and routes on it, a prompt."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from workflows.llm import breaker, selectors, services
from workflows.llm.fake_openai import FakeOpenAI
from workflows.llm.models import PromptTemplate, Provider, Route

FAKE_KEY_ENV = "AIOS_TEST_FAKE_OPENAI_KEY"

QUOTE_SCHEMA = {
    "type": "object",
    "properties": {
        "customer": {"type": "string"},
        "total": {"type": "number", "minimum": 0},
        "lines": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}},
                "required": ["sku", "qty"],
            },
        },
    },
    "required": ["customer", "total", "lines"],
}


@pytest.fixture(scope="session")
def fake_server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(retry_after_s=0.2, hang_s=5.0) as server:
        yield server


@pytest.fixture
def fake_openai(fake_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    """The fake server with no scripts and no recorded requests."""
    fake_server.reset()
    fake_server.retry_after_s = 0.2
    yield fake_server
    fake_server.reset()


@pytest.fixture(autouse=True)
def _llm_settings(settings) -> Iterator[None]:
    """Fast backoff, and breakers in a Redis namespace of their own (no state leaks)."""
    namespace = f"test-llm:{uuid.uuid4().hex}"
    settings.AIOS_LLM_BREAKER_NAMESPACE = namespace
    settings.AIOS_LLM_BACKOFF_S = 0.01
    settings.AIOS_LLM_BACKOFF_MAX_S = 0.05
    settings.AIOS_MODEL_PRICES = {}
    settings.AIOS_LLM_CONFIG_TTL_S = 0  # tests change routes between calls
    yield
    selectors.config_cache_clear()
    client = breaker._redis()
    keys = list(client.scan_iter(match=f"{namespace}:*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def provider(db, fake_openai: FakeOpenAI, monkeypatch) -> Provider:
    """A self-hosted OpenAI-compatible server (the fake), its key in an env var."""
    monkeypatch.setenv(FAKE_KEY_ENV, "sk-test-not-stored")
    return Provider.objects.create(
        name="fake-vllm", kind="compatible", base_url=fake_openai.url, api_key_env=FAKE_KEY_ENV
    )


@pytest.fixture
def backup_provider(db, fake_openai: FakeOpenAI) -> Provider:
    """A second self-hosted server (same fake, its own circuit breaker), no key needed."""
    return Provider.objects.create(name="fake-ollama", kind="compatible", base_url=fake_openai.url)


@pytest.fixture
def make_route(provider: Provider):
    def make(name: str = "draft", *, model: str = "fake-json", **fields) -> Route:
        defaults = {"provider": provider, "egress": "self-hosted", "timeout_s": 2.0}
        defaults.update(fields)
        return Route.objects.create(name=name, model=model, **defaults)

    return make


@pytest.fixture
def quote_template(db) -> PromptTemplate:
    return services.prompt_template_save(
        name="sales-quote",
        system="You draft sales quotes as JSON.",
        user="Customer: {{ customer }}\nRequest: {{ request }}",
    )


@pytest.fixture
def quote_variables() -> dict[str, str]:
    return {"customer": "ACME GmbH", "request": "10 widgets, delivery in March"}


@pytest.fixture
def default_route(db: None) -> Route:
    """The `default` offline route. A migration creates it, but a transactional test's
    flush (in this run or, with --reuse-db, an earlier one) removes it: ensure it."""
    from workflows.llm.services import llm_defaults_ensure

    return llm_defaults_ensure()
