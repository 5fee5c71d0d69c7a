from django.urls import path

from aios_app import kpi_views

urlpatterns = [path("", kpi_views.kpis_view, name="kpis")]
