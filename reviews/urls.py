from django.urls import path

from reviews import views

app_name = "reviews"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("next/", views.next_item, name="next-item"),
    path("bulk-approve/", views.bulk_approve, name="bulk-approve"),
    path("events/", views.events, name="events"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("items/<int:item_id>/", views.work_item, name="work-item"),
    path("items/<int:item_id>/claim/", views.work_item_claim, name="work-item-claim"),
    path("items/<int:item_id>/release/", views.work_item_release, name="work-item-release"),
    path("items/<int:item_id>/ping/", views.work_item_ping, name="work-item-ping"),
    path("items/<int:item_id>/approve/", views.work_item_approve, name="work-item-approve"),
    path("items/<int:item_id>/reject/", views.work_item_reject, name="work-item-reject"),
    path("items/<int:item_id>/escalate/", views.work_item_escalate, name="work-item-escalate"),
    path("items/<int:item_id>/redraft/", views.work_item_redraft, name="work-item-redraft"),
    path("items/<int:item_id>/comment/", views.work_item_comment, name="work-item-comment"),
    path("items/<int:item_id>/validate/", views.work_item_validate, name="work-item-validate"),
    path("items/<int:item_id>/rollback/", views.work_item_rollback, name="work-item-rollback"),
]
