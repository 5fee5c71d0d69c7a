"""Defaults so the system works with no configuration: an offline provider, a route on it.

Same rows as `services.llm_defaults_ensure()` (which can re-create them later).
"""

from django.db import migrations


def create_defaults(apps, schema_editor):
    Provider = apps.get_model("llm", "Provider")
    Route = apps.get_model("llm", "Route")
    provider, _ = Provider.objects.get_or_create(name="offline", defaults={"kind": "offline"})
    Route.objects.get_or_create(
        name="default",
        defaults={
            "provider": provider,
            "model": "offline",
            "egress": "self-hosted",
            "max_attempts": 1,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("llm", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
