from django.urls import path

from memory import views

urlpatterns = [
    path("", views.my_memory, name="memory"),
    path("<int:pk>/", views.entry_detail, name="memory-entry"),
    path("<int:pk>/delete/", views.delete_entry, name="memory-delete"),
    path("api/", views.api_entries, name="api-memory"),
    path("api/<int:pk>/", views.api_entry, name="api-memory-entry"),
]
