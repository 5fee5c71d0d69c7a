"""Model plane: providers, routes, versioned prompt templates, the call ledger and its cache.

`ModelCall` field names follow the OpenTelemetry GenAI semantic conventions in spirit; the
mapping is in `accounting.model_call_span` and docs/models.md. This app never imports the
engine: a call names its work item by a plain id.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models


class ProviderKind(models.TextChoices):
    OPENAI = "openai", "OpenAI"
    AZURE = "azure", "Azure OpenAI"
    COMPATIBLE = "compatible", "OpenAI-compatible (vLLM, Ollama, llama.cpp)"
    OFFLINE = "offline", "Offline (in-process, no network)"


# Kinds whose endpoint is, by definition, someone else's cloud.
MANAGED_KINDS = frozenset({ProviderKind.OPENAI, ProviderKind.AZURE})


class Egress(models.TextChoices):
    MANAGED = "managed", "Managed (data leaves for a vendor's cloud)"
    SELF_HOSTED = "self-hosted", "Self-hosted (data stays on our machines)"


class Provider(models.Model):
    """An OpenAI-compatible endpoint. The API key is never stored: `api_key_env` names the
    environment variable that holds it, read at call time."""

    name = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=ProviderKind.choices)
    base_url = models.URLField(
        blank=True, help_text="e.g. http://vllm.internal:8000/v1; the Azure endpoint for Azure"
    )
    api_key_env = models.CharField(
        max_length=64,
        blank=True,
        help_text="NAME of the environment variable holding the key (blank: no key needed)",
    )
    api_version = models.CharField(max_length=32, blank=True, help_text="Azure only")
    redact_pii = models.BooleanField(
        default=False, help_text="store messages and outputs of every call with PII redacted"
    )
    breaker_fail_max = models.PositiveSmallIntegerField(
        default=5, help_text="consecutive failures that open the circuit breaker"
    )
    breaker_reset_s = models.PositiveIntegerField(
        default=30, help_text="seconds the breaker stays open before a trial call"
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind in (ProviderKind.AZURE, ProviderKind.COMPATIBLE) and not self.base_url:
            raise ValidationError({"base_url": "this kind of provider needs a base URL"})
        if self.kind == ProviderKind.AZURE and not self.api_version:
            raise ValidationError({"api_version": "Azure OpenAI needs an API version"})


class Route(models.Model):
    """How one workflow step reaches a model: which provider and model, with what limits,
    where to go when that fails, and whether data may leave for a managed cloud."""

    name = models.SlugField(max_length=64, unique=True, help_text="e.g. sales-quote-draft")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="routes")
    model = models.CharField(max_length=128, help_text="model name; the deployment name for Azure")
    temperature = models.FloatField(default=0.0)
    max_tokens = models.PositiveIntegerField(default=1024)
    timeout_s = models.FloatField(default=30.0, help_text="per attempt")
    max_attempts = models.PositiveSmallIntegerField(
        default=3, help_text="attempts on 429/5xx/timeouts before the fallback route"
    )
    fallback = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="fallback_for"
    )
    egress = models.CharField(max_length=16, choices=Egress.choices, default=Egress.MANAGED)
    cache_enabled = models.BooleanField(
        default=True, help_text="identical requests are answered from the response cache"
    )
    redact_pii = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(egress__in=["managed", "self-hosted"]), name="llm_route_egress"
            ),
            models.CheckConstraint(condition=models.Q(timeout_s__gt=0), name="llm_route_timeout"),
            models.CheckConstraint(
                condition=models.Q(max_attempts__gte=1), name="llm_route_attempts"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        managed = self.provider_id and self.provider.kind in MANAGED_KINDS
        if self.egress == Egress.SELF_HOSTED and managed:
            raise ValidationError(
                {"egress": f"a {self.provider.get_kind_display()} provider is managed"}
            )
        seen = {self.pk}
        step = self.fallback
        while step is not None:
            if step.pk in seen:
                raise ValidationError({"fallback": "fallback routes form a loop"})
            seen.add(step.pk)
            step = step.fallback

    @property
    def effective_egress(self) -> str:
        """The label, except that OpenAI and Azure are managed whatever the label says."""
        if self.provider.kind in MANAGED_KINDS:
            return Egress.MANAGED
        return self.egress


class PromptTemplate(models.Model):
    """One immutable version of a named prompt. Changing a prompt makes a new version
    (`services.prompt_template_save`); calls record the version they used."""

    name = models.SlugField(max_length=96)
    version = models.PositiveIntegerField()
    system = models.TextField(blank=True)
    user = models.TextField(help_text="Django template syntax: {{ variable }}")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="llm_template_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Operation(models.TextChoices):
    CHAT = "chat"
    EMBEDDINGS = "embeddings"


class ModelCall(models.Model):
    """One request to a model (or one refusal to send it). OTel GenAI mapping:

    operation ↔ gen_ai.operation.name, provider_kind ↔ gen_ai.system (gen_ai.provider.name),
    request_model ↔ gen_ai.request.model, response_model ↔ gen_ai.response.model,
    temperature ↔ gen_ai.request.temperature, max_tokens ↔ gen_ai.request.max_tokens,
    input_tokens ↔ gen_ai.usage.input_tokens, output_tokens ↔ gen_ai.usage.output_tokens,
    finish_reason ↔ gen_ai.response.finish_reasons, response_id ↔ gen_ai.response.id,
    error_type ↔ error.type.
    """

    created_at = models.DateTimeField(auto_now_add=True)
    work_item_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    step = models.CharField(max_length=64, blank=True)
    operation = models.CharField(max_length=16, choices=Operation.choices, default="chat")
    provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    provider_kind = models.CharField(max_length=16, blank=True)
    route = models.ForeignKey(
        Route, null=True, blank=True, on_delete=models.SET_NULL, related_name="calls"
    )
    route_name = models.CharField(max_length=64, blank=True)
    egress = models.CharField(max_length=16, blank=True)
    request_model = models.CharField(max_length=128)
    response_model = models.CharField(max_length=128, blank=True)
    temperature = models.FloatField(null=True, blank=True)
    max_tokens = models.PositiveIntegerField(null=True, blank=True)
    prompt_template = models.ForeignKey(
        PromptTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    template_name = models.CharField(max_length=96, blank=True)
    template_version = models.PositiveIntegerField(null=True, blank=True)
    messages = models.JSONField(default=list)
    output = models.TextField(blank=True)
    tool_calls = models.JSONField(
        default=list, blank=True, help_text="tool calls the model asked for, with what happened"
    )
    finish_reason = models.CharField(max_length=32, blank=True)
    response_id = models.CharField(max_length=128, blank=True)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    latency_ms = models.FloatField(default=0)
    cost = models.DecimalField(
        max_digits=14, decimal_places=8, null=True, blank=True, help_text="blank: no price known"
    )
    attempts = models.PositiveSmallIntegerField(default=1)
    error = models.TextField(blank=True)
    error_type = models.CharField(max_length=64, blank=True)
    cache_hit = models.BooleanField(default=False)
    cache_key = models.CharField(max_length=64, blank=True)
    redacted = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["-created_at"], name="llm_call_created"),
            models.Index(fields=["provider", "-created_at"], name="llm_call_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.operation} {self.request_model} #{self.pk}"

    @property
    def ok(self) -> bool:
        return not self.error


class ResponseCache(models.Model):
    """A provider's answer to one exact request, keyed by the request's hash."""

    key = models.CharField(max_length=64, unique=True)
    response = models.JSONField()
    hits = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.key
