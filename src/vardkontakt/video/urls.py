from django.urls import path

from vardkontakt.video import views

app_name = "video"

urlpatterns = [
    path("video/drop-in/", views.drop_in, name="drop_in"),
    path("video/drop-in/<uuid:caller_id>/", views.caller, name="caller"),
    path("video/drop-in/<uuid:caller_id>/room/", views.drop_in_room, name="drop_in_room"),
    path("video/interpreting/", views.interpreting, name="interpreting"),
    path("video/interpreting/<uuid:invitation_id>/", views.interpreter_room, name="interpreter_room"),
    path("video/<uuid:booking_id>/", views.room, name="room"),
    path("video/<uuid:booking_id>/evaluation/", views.evaluation, name="evaluation"),
    path("video/<uuid:booking_id>/evaluation/thanks/", views.evaluation_thanks, name="evaluation_thanks"),
]
