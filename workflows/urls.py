from django.urls import path

from workflows import views

app_name = "workflows"

urlpatterns = [
    path("", views.workflow_list, name="workflow-list"),
    path("audit/", views.audit_log, name="audit-log"),
]
