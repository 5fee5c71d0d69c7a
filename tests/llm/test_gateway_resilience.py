"""Retries, timeouts, fallback routes, circuit breakers and the egress rule."""

from __future__ import annotations

import time

import pytest

from tests.llm.conftest import QUOTE_SCHEMA
from workflows.llm import breaker
from workflows.llm.exceptions import EgressRefused, ModelUnavailable
from workflows.llm.gateway import generate_structured
from workflows.llm.models import ModelCall, Provider


def _draft(route: str = "draft"):
    return generate_structured(
        route=route,
        template="sales-quote",
        variables={"customer": "ACME GmbH", "request": "10 widgets"},
        schema=QUOTE_SCHEMA,
        work_item_id=7,
        step="draft",
    )


def _calls(result) -> list[ModelCall]:
    return list(ModelCall.objects.filter(id__in=result.model_call_ids).order_by("id"))


def test_429_is_retried_after_the_retry_after_delay(make_route, quote_template, fake_openai):
    # given a model that is rate limited once (Retry-After: 0.2 s)
    make_route("draft", model="fake-json")
    fake_openai.script("fake-json", "429")
    # when
    started = time.monotonic()
    result = _draft()
    elapsed = time.monotonic() - started
    # then the second attempt answered, after waiting as the server asked
    assert result.valid
    assert elapsed >= 0.2
    (call,) = _calls(result)
    assert call.attempts == 2
    assert call.error == ""
    assert len(fake_openai.requests_for("fake-json")) == 2


def test_500_is_retried(make_route, quote_template, fake_openai):
    make_route("draft", model="fake-json")
    fake_openai.script("fake-json", "500", "500")
    result = _draft()
    assert result.valid
    assert _calls(result)[0].attempts == 3


def test_malformed_response_body_is_retried(make_route, quote_template, fake_openai):
    make_route("draft", model="fake-json")
    fake_openai.script("fake-json", "broken-body")
    result = _draft()
    assert result.valid
    assert _calls(result)[0].attempts == 2


def test_timeout_then_fallback_route(make_route, backup_provider, quote_template, fake_openai):
    # given a primary route whose model hangs, with a fallback on another server
    backup = make_route("backup", model="fake-json", provider=backup_provider)
    make_route("draft", model="fake-hang", timeout_s=0.2, max_attempts=2, fallback=backup)
    # when
    started = time.monotonic()
    result = _draft()
    # then both attempts timed out, and the fallback route answered
    assert time.monotonic() - started < 2.0
    assert result.valid
    assert result.route == "backup"
    failed, answered = _calls(result)
    assert (failed.route_name, failed.error_type, failed.attempts) == ("draft", "timeout", 2)
    assert (answered.route_name, answered.error) == ("backup", "")


def test_every_route_failing_raises_model_unavailable(make_route, quote_template):
    make_route("draft", model="fake-500", max_attempts=2)
    with pytest.raises(ModelUnavailable, match="HTTP 500") as caught:
        _draft()
    (call,) = ModelCall.objects.filter(id__in=caught.value.model_call_ids)
    assert call.error_type == "http_500"
    assert call.attempts == 2


def test_retry_after_too_long_goes_to_the_fallback_at_once(
    make_route, backup_provider, quote_template, fake_openai, settings
):
    # given a primary that asks to come back in 100 s
    settings.AIOS_LLM_RETRY_AFTER_MAX_S = 5
    fake_openai.retry_after_s = 100
    backup = make_route("backup", model="fake-json", provider=backup_provider)
    make_route("draft", model="fake-429", max_attempts=3, fallback=backup)
    # when
    result = _draft()
    # then the worker did not wait: one attempt, then the fallback
    assert result.route == "backup"
    assert _calls(result)[0].attempts == 1
    assert "too long to wait" in _calls(result)[0].error


def test_breaker_opens_after_consecutive_failures_and_calls_skip_the_provider(
    make_route, provider, backup_provider, quote_template, fake_openai
):
    # given a provider that fails, with a breaker opening after 2 failures
    Provider.objects.filter(id=provider.id).update(breaker_fail_max=2, breaker_reset_s=60)
    backup = make_route("backup", model="fake-json", provider=backup_provider, cache_enabled=False)
    make_route("draft", model="fake-500", max_attempts=1, fallback=backup, cache_enabled=False)
    # when two calls fail on it
    _draft()
    _draft()
    # then its breaker is open, for every process (a fresh breaker object reads Redis)
    provider.refresh_from_db()
    breaker._breakers.clear()
    state = breaker.state_of(provider)
    assert state.state == "open"
    assert state.retry_at is not None
    # and the next call does not reach it, but goes straight to the fallback
    result = _draft()
    assert len(fake_openai.requests_for("fake-500")) == 2
    assert result.route == "backup"
    refused = _calls(result)[0]
    assert (refused.error_type, refused.attempts) == ("breaker_open", 0)


def test_breaker_closes_after_a_successful_trial_call(
    make_route, provider, quote_template, fake_openai
):
    # given an open breaker whose reset timeout has passed
    Provider.objects.filter(id=provider.id).update(breaker_fail_max=1, breaker_reset_s=30)
    provider.refresh_from_db()
    route = make_route("draft", model="fake-500", max_attempts=1)
    with pytest.raises(ModelUnavailable):
        _draft()
    assert breaker.state_of(provider).state == "open"
    with pytest.raises(ModelUnavailable, match="circuit breaker open"):
        _draft()
    _pretend_opened_seconds_ago(provider, 31)
    # when the provider is healthy again and a call comes
    route.model = "fake-json"
    route.save(update_fields=["model", "updated_at"])
    result = _draft()
    # then the trial went through and closed the breaker
    assert result.valid
    assert breaker.state_of(provider).state == "closed"
    assert breaker.state_of(provider).failures == 0


def test_admin_can_close_an_open_breaker(provider):
    breaker.breaker_for(provider).open()
    breaker.close(provider)
    assert breaker.state_of(provider).state == "closed"


def test_egress_rule_refuses_a_managed_route_before_sending(db, fake_openai, quote_template,
                                                            monkeypatch):  # fmt: skip
    # given a route on a managed provider (OpenAI itself: managed whatever the label says)
    monkeypatch.setenv("AIOS_TEST_OPENAI_KEY", "sk-test")
    managed = Provider.objects.create(name="openai", kind="openai", base_url=fake_openai.url,
                                      api_key_env="AIOS_TEST_OPENAI_KEY")  # fmt: skip
    managed.routes.create(name="draft", model="fake-json", egress="managed")
    # when a workflow pinned to self-hosted models uses it
    with pytest.raises(EgressRefused, match="self-hosted") as caught:
        generate_structured(route="draft", template="sales-quote",
                            variables={"customer": "A", "request": "B"}, schema=QUOTE_SCHEMA,
                            self_hosted_only=True)  # fmt: skip
    # then nothing was sent, and the refusal is on record
    assert caught.value.offending_route == "draft"
    assert fake_openai.requests == []
    assert ModelCall.objects.get().error_type == "egress_refused"


def test_egress_rule_refuses_a_chain_that_could_fall_back_to_a_managed_route(
    make_route, quote_template, fake_openai
):
    managed = make_route("cloud", model="fake-json", egress="managed")
    make_route("draft", model="fake-json", fallback=managed)
    with pytest.raises(EgressRefused, match="'cloud'"):
        generate_structured(route="draft", template="sales-quote",
                            variables={"customer": "A", "request": "B"}, schema=QUOTE_SCHEMA,
                            self_hosted_only=True)  # fmt: skip
    assert fake_openai.requests == []


def test_egress_rule_lets_self_hosted_routes_through(make_route, quote_template):
    make_route("draft", model="fake-json", egress="self-hosted")
    result = generate_structured(route="draft", template="sales-quote",
                                 variables={"customer": "A", "request": "B"},
                                 schema=QUOTE_SCHEMA, self_hosted_only=True)  # fmt: skip
    assert result.valid


def _pretend_opened_seconds_ago(provider: Provider, seconds: int) -> None:
    """Move the breaker's opened-at time back instead of sleeping through the timeout."""
    key = f"{breaker._namespace(provider)}:pybreaker:opened_at"
    breaker._redis().set(key, int(time.time()) - seconds)
