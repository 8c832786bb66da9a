from django.urls import path

from execution import views

urlpatterns = [
    path("<int:execution_id>/cancel/", views.cancel, name="execution-cancel"),
    path("<int:execution_id>/files/<str:name>", views.artifact, name="execution-artifact"),
]
