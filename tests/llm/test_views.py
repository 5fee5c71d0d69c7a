"""Admin pages of the model plane: roles, breaker state, the call ledger."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from workflows.llm import breaker
from workflows.llm.models import ModelCall, Provider, Route

PAGES = ["llm:provider-list", "llm:route-list", "llm:model-call-list"]


@pytest.fixture
def call(default_route: Route) -> ModelCall:
    route = default_route
    return ModelCall.objects.create(
        route=route, route_name=route.name, provider=route.provider, provider_kind="offline",
        request_model="offline", messages=[{"role": "user", "content": "<b>hi</b>"}],
        output='<script>alert("x")</script>', input_tokens=12, output_tokens=5,
        latency_ms=3.5, work_item_id=99, step="draft",
    )  # fmt: skip


def _urls(call: ModelCall) -> list[str]:
    return [reverse(name) for name in PAGES] + [reverse("llm:model-call-detail", args=[call.id])]


def test_anonymous_is_sent_to_login(client, call):
    for url in _urls(call):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


def test_reviewer_is_forbidden(client, reviewer, call):
    client.force_login(reviewer)
    for url in _urls(call):
        assert client.get(url).status_code == 403, url


def test_workflow_admin_sees_each_page(client, workflow_admin, call):
    client.force_login(workflow_admin)
    for url in _urls(call):
        assert client.get(url).status_code == 200, url


def test_pages_refuse_post(client, workflow_admin, call):
    client.force_login(workflow_admin)
    for url in _urls(call):
        assert client.post(url).status_code == 405, url


def test_provider_list_shows_breaker_state(client, workflow_admin, provider):
    breaker.breaker_for(provider).open()
    client.force_login(workflow_admin)
    html = client.get(reverse("llm:provider-list")).content.decode()
    assert 'data-testid="provider-fake-vllm"' in html
    assert '<span class="badge bad">open</span>' in html
    assert "$AIOS_TEST_FAKE_OPENAI_KEY" in html
    assert "sk-test-not-stored" not in html


def test_admin_closes_a_breaker(client, workflow_admin, provider):
    breaker.breaker_for(provider).open()
    client.force_login(workflow_admin)
    url = reverse("llm:provider-breaker-reset", args=[provider.id])
    response = client.post(url)
    assert response.status_code == 302
    assert breaker.state_of(provider).state == "closed"


def test_breaker_reset_needs_post_and_the_role(client, reviewer, workflow_admin, provider):
    url = reverse("llm:provider-breaker-reset", args=[provider.id])
    client.force_login(reviewer)
    assert client.post(url).status_code == 403
    client.force_login(workflow_admin)
    assert client.get(url).status_code == 405
    assert client.post(reverse("llm:provider-breaker-reset", args=[10**9])).status_code == 404


def test_route_list_shows_egress(client, workflow_admin, default_route):
    client.force_login(workflow_admin)
    html = client.get(reverse("llm:route-list")).content.decode()
    assert "default" in html
    assert '<span class="badge ok">self-hosted</span>' in html


def test_model_output_is_shown_inert(client, workflow_admin, call):
    client.force_login(workflow_admin)
    html = client.get(reverse("llm:model-call-detail", args=[call.id])).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;hi&lt;/b&gt;" in html


def test_model_call_list_query_count_does_not_grow_with_rows(
    client, workflow_admin, call, django_assert_max_num_queries
):
    # given many calls across providers
    for index in range(60):
        provider = Provider.objects.create(name=f"p{index}", kind="compatible",
                                           base_url="http://127.0.0.1:9/v1")  # fmt: skip
        ModelCall.objects.create(provider=provider, request_model="m", route_name="r",
                                 provider_kind="compatible", cost="0.0001")  # fmt: skip
    client.force_login(workflow_admin)
    # when / then: session, user, permissions, the calls
    with django_assert_max_num_queries(8):
        response = client.get(reverse("llm:model-call-list"))
    assert response.status_code == 200
    assert len(re.findall(r'href="/models/calls/\d+/"', response.content.decode())) == 50
    assert "Older calls" in response.content.decode()


def test_model_call_list_filters_by_work_item(client, workflow_admin, call):
    ModelCall.objects.create(request_model="other", work_item_id=100)
    client.force_login(workflow_admin)
    html = client.get(reverse("llm:model-call-list"), {"work_item": 99}).content.decode()
    assert f'href="/models/calls/{call.id}/"' in html
    assert "other" not in html


def test_unknown_model_call_is_404(client, workflow_admin, db):
    client.force_login(workflow_admin)
    assert client.get(reverse("llm:model-call-detail", args=[10**9])).status_code == 404
