from django.apps import AppConfig


class ConnectorsConfig(AppConfig):
    name = "workflows.connectors"
    label = "connectors"
    verbose_name = "Connectors"
