from django.urls import path

from workflows.knowledge import views

app_name = "knowledge"

urlpatterns = [
    path("", views.collection_list, name="collection-list"),
    path("new", views.collection_create, name="collection-create"),
    path("search/", views.search, name="search"),
    path("<int:collection_id>/", views.collection_detail, name="collection-detail"),
    path("<int:collection_id>/jobs", views.collection_jobs, name="collection-jobs"),
    path("<int:collection_id>/upload", views.document_upload, name="document-upload"),
    path("<int:collection_id>/reembed", views.collection_reembed, name="collection-reembed"),
    path(
        "<int:collection_id>/reembed/<int:job_id>/resume",
        views.reembed_resume,
        name="reembed-resume",
    ),
]
