from django.urls import path

from vardkontakt.video import staff_views

app_name = "video_staff"

urlpatterns = [
    path("video/", staff_views.day, name="day"),
    path("video/<uuid:booking_id>/", staff_views.room, name="room"),
    path("video/<uuid:booking_id>/interpreter/", staff_views.interpreters, name="interpreters"),
    path(
        "video/<uuid:booking_id>/interpreter/<uuid:invitation_id>/withdraw/",
        staff_views.interpreter_withdraw,
        name="interpreter_withdraw",
    ),
    path("video/queues/", staff_views.queues_page, name="queues"),
    path("video/queues/<uuid:queue_id>/", staff_views.queue, name="queue"),
    path("video/drop-in/<uuid:caller_id>/", staff_views.drop_in_room, name="drop_in_room"),
]
