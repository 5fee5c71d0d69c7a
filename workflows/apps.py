from django.apps import AppConfig


class WorkflowsConfig(AppConfig):
    name = "workflows"
    label = "workflows"
    verbose_name = "Workflows"

    def ready(self) -> None:
        # The offline provider answers every offline route model (docs/agents.md). Web,
        # workers and tests all import apps, so every process that runs steps has it.
        from workflows.agents.offline import offline_chat
        from workflows.llm.providers import register_offline_handler

        register_offline_handler(offline_chat)
