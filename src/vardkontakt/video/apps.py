from django.apps import AppConfig


class VideoConfig(AppConfig):
    name = "vardkontakt.video"
    label = "video"
    default_auto_field = "django.db.models.BigAutoField"
