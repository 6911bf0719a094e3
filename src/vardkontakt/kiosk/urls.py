from django.urls import path

from vardkontakt.kiosk import views

app_name = "kiosk"

urlpatterns = [
    # On the kiosk device: nothing without its cookie (404), registered once with the unit's code.
    path("kiosk/register/<str:code>/", views.register, name="register"),
    path("kiosk/<uuid:unit_id>/", views.start, name="start"),
    path("kiosk/<uuid:unit_id>/bookings/", views.bookings, name="bookings"),
    path("kiosk/<uuid:unit_id>/done/", views.done, name="done"),
    path("kiosk/<uuid:unit_id>/bankid/<uuid:login_id>/", views.bankid_poll, name="bankid_poll"),
    # On the person's phone: the QR code's link into the usual e-ID login.
    path("kiosk/bankid/<str:secret>/", views.bankid_start, name="bankid_start"),
]
