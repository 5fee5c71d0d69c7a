from django.contrib import admin

from reviews.models import Comment, Notification, ReviewSession, SlaBreach


@admin.register(ReviewSession)
class ReviewSessionAdmin(admin.ModelAdmin):
    list_display = ["item", "reviewer", "opened_at", "decided_at", "decision", "active_seconds"]
    list_filter = ["decision"]
    raw_id_fields = ["item", "reviewer"]


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ["item", "author", "created_at"]
    raw_id_fields = ["item", "author", "mentions"]
    # Comments are written only through reviews.services (they are audit events too).
    readonly_fields = ["item", "author", "body", "created_at"]

    def has_add_permission(self, request):  # noqa: ANN001, ANN201
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["user", "kind", "item", "created_at", "read_at"]
    list_filter = ["kind"]
    raw_id_fields = ["user", "item"]


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    list_display = ["item", "due_at", "status", "escalated", "created_at"]
    raw_id_fields = ["item"]
