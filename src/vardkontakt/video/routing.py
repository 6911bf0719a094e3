"""The video visits' WebSocket routes (asgi.py). Nginx passes the upgrade on /video/ws/."""

from django.urls import path

from vardkontakt.video.consumers import RoomConsumer
from vardkontakt.video.queue_consumers import CallerConsumer, StaffQueueConsumer

websocket_urlpatterns = [
    path("video/ws/<uuid:room_id>/", RoomConsumer.as_asgi()),
    path("video/ws/caller/<uuid:caller_id>/", CallerConsumer.as_asgi()),
    path("video/ws/queue/<uuid:queue_id>/", StaffQueueConsumer.as_asgi()),
]
