from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_delete, post_save


class IdentityConfig(AppConfig):
    name = "vardkontakt.identity"
    label = "identity"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from vardkontakt.identity.models import Patient, Staff, User
        from vardkontakt.identity.sockets import close_sockets_of_session
        from vardkontakt.identity.user_cache import forget_on_change

        # The session's user is kept in the shared cache (user_cache.py): any change is read again.
        for model in (User, Patient, Staff):
            post_save.connect(forget_on_change, sender=model, dispatch_uid=f"user-cache-{model.__name__}-save")
            post_delete.connect(forget_on_change, sender=model, dispatch_uid=f"user-cache-{model.__name__}-delete")
        # A logout closes the sockets (video, drop-in queues) opened with that session (sockets.py).
        user_logged_out.connect(close_sockets_of_session, dispatch_uid="identity-logout-closes-sockets")
