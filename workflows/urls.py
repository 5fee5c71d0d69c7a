from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.workflow_list, name="workflow-list"),
    path("api/<slug:slug>/items", views.api_intake, name="api-intake"),
    path("audit/", views.audit_log, name="audit-log"),
    path("audit/export", views.audit_export, name="audit-export"),
    path("items/<int:item_id>/", views.work_item_detail, name="work-item-detail"),
    path("items/<int:item_id>/retry", views.work_item_retry, name="work-item-retry"),
    path("items/<int:item_id>/cancel", views.work_item_cancel, name="work-item-cancel"),
    path("<slug:slug>/", views.workflow_detail, name="workflow-detail"),
]
