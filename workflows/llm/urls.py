from django.urls import path

from workflows.llm import views

app_name = "llm"

urlpatterns = [
    path("", views.provider_list, name="provider-list"),
]
