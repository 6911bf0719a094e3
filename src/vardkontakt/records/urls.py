from django.urls import path

from vardkontakt.records import views

app_name = "records"

urlpatterns = [
    path("record/", views.overview, name="overview"),
    path("record/notes/", views.notes, name="notes"),
    path("record/choices/", views.preferences, name="preferences"),
    path("record/<str:name>/", views.section, name="section"),
]
