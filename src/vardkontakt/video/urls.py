from django.urls import path

from vardkontakt.video import views

app_name = "video"

urlpatterns = [
    path("video/<uuid:booking_id>/", views.room, name="room"),
    path("video/<uuid:booking_id>/evaluation/", views.evaluation, name="evaluation"),
    path("video/<uuid:booking_id>/evaluation/thanks/", views.evaluation_thanks, name="evaluation_thanks"),
]
