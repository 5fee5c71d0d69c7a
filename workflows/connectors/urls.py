from django.urls import path

from workflows.connectors import views

app_name = "connectors"

urlpatterns = [
    path("demo-sink/", views.demo_sink_list, name="demo-sink"),
    path(
        "demo-sink/commit",
        views.demo_sink_receive_view,
        {"action": "commit"},
        name="demo-sink-commit",
    ),
    path(
        "demo-sink/rollback",
        views.demo_sink_receive_view,
        {"action": "rollback"},
        name="demo-sink-rollback",
    ),
]
