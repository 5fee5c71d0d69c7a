from django.urls import path

from workflows.llm import views

app_name = "llm"

urlpatterns = [
    path("", views.provider_list, name="provider-list"),
    path(
        "providers/<int:provider_id>/breaker-reset/",
        views.provider_breaker_reset,
        name="provider-breaker-reset",
    ),
    path("routes/", views.route_list, name="route-list"),
    path("calls/", views.model_call_list, name="model-call-list"),
    path("calls/<int:call_id>/", views.model_call_detail, name="model-call-detail"),
]
