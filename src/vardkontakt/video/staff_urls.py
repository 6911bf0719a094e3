from django.urls import path

from vardkontakt.video import staff_views

app_name = "video_staff"

urlpatterns = [
    path("video/", staff_views.day, name="day"),
    path("video/<uuid:booking_id>/", staff_views.room, name="room"),
]
