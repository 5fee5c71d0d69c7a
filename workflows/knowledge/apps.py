from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "workflows.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge"
