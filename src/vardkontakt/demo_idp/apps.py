from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DemoIdpConfig(AppConfig):
    name = "vardkontakt.demo_idp"
    label = "demo_idp"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Demo identity provider"

    def ready(self) -> None:
        # Second lock on the door (settings.py is the first): never in a production configuration.
        if not settings.DEMO:
            raise ImproperlyConfigured("The demo identity provider refuses to start without VK_DEMO=true.")
