from django.urls import path

from vardkontakt.records import views

app_name = "records"

urlpatterns = [
    path("record/", views.overview, name="overview"),
    path("record/notes/", views.notes, name="notes"),
    path("record/choices/", views.preferences, name="preferences"),
    path("record/results/chart/", views.result_chart, name="result_chart"),
    path("record/export/", views.export_record, name="export"),
    path("record/vaccinations/certificate/", views.vaccination_certificate, name="vaccination_certificate"),
    path("record/<str:name>/", views.section, name="section"),
]
