from django.apps import AppConfig


class AiosAppConfig(AppConfig):
    name = "aios_app"
    verbose_name = "AIOS"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from aios_app.roles import ensure_role_groups

        # Groups are reference data like permissions: recreated after every migrate/flush.
        post_migrate.connect(ensure_role_groups, sender=self)
