from django.apps import AppConfig


class LlmConfig(AppConfig):
    name = "workflows.llm"
    label = "llm"
    verbose_name = "Model plane"
