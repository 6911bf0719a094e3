from django.urls import path

from vardkontakt.operations import views

app_name = "operations"

urlpatterns = [
    path("support/", views.support, name="support"),
]
