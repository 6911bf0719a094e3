from django.urls import path

from vardkontakt.kiosk import views

app_name = "kiosk_staff"

urlpatterns = [
    path("units/<uuid:unit_id>/kiosks/", views.devices, name="devices"),
    path("units/<uuid:unit_id>/kiosks/<uuid:device_id>/revoke/", views.revoke, name="revoke"),
]
