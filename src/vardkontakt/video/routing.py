"""The video visits' WebSocket routes (asgi.py). Nginx passes the upgrade on /video/ws/."""

from django.urls import path

from vardkontakt.video.consumers import RoomConsumer

websocket_urlpatterns = [path("video/ws/<uuid:room_id>/", RoomConsumer.as_asgi())]
