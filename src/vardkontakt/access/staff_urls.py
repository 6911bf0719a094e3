from django.urls import path

from vardkontakt.access import staff_views

app_name = "access_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/log/", staff_views.unit_log, name="unit_log"),
    path("seals/", staff_views.seals, name="seals"),
    path("seals/<uuid:seal_id>/reopen/", staff_views.seal_reopen, name="seal_reopen"),
    path("guardians/", staff_views.guardians, name="guardians"),
    path("guardians/<uuid:guardianship_id>/<str:action>/", staff_views.guardian_block, name="guardian_block"),
]
