from django.contrib import admin

from aios_app.models import ApiToken, Team


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    filter_horizontal = ["members"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with `manage.py create_api_token` (shown once); here they are
    listed and revoked."""

    list_display = ["name", "prefix", "workflows", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "prefix", "created_by", "last_used_at", "created_at"]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
