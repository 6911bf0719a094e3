from django.urls import path

from vardkontakt.usage_statistics import views

app_name = "usage_statistics"

urlpatterns = [
    path("staff/units/<uuid:unit_id>/statistics/", views.unit, name="unit"),
    path("staff/units/<uuid:unit_id>/statistics/<slug:table>.csv", views.unit_csv, name="unit_csv"),
    path("staff/statistics/", views.regional, name="regional"),
    path("staff/statistics/<slug:table>.csv", views.regional_csv, name="regional_csv"),
    # Public, and on purpose linked from nowhere (issue 7 §3: "No anchor publishes this").
    path("statistics/response-times/", views.public_response_times, name="public"),
]
