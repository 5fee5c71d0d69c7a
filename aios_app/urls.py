from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from aios_app import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path(
        "login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("kpis/", include("aios_app.kpi_urls")),
    path("reviews/", include("reviews.urls")),
    path("workflows/", include("workflows.urls")),
    path("knowledge/", include("workflows.knowledge.urls")),
    path("models/", include("workflows.llm.urls")),
    path("connectors/", include("workflows.connectors.urls")),
]
