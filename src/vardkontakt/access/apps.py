from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "vardkontakt.access"
    label = "access"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Every process (web and worker) forgets the kept "acts for nobody" of a guardian or agent
        whose guardianship or proxy changes (access/acting.py)."""
        from django.db.models.signals import post_delete, post_save

        from vardkontakt.access.acting import forget_nobody
        from vardkontakt.access.models import Guardianship, Proxy

        for model in (Guardianship, Proxy):
            post_save.connect(forget_nobody, sender=model, dispatch_uid=f"access.acting.save.{model.__name__}")
            post_delete.connect(forget_nobody, sender=model, dispatch_uid=f"access.acting.delete.{model.__name__}")
