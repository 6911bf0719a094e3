from django.apps import AppConfig


class KioskConfig(AppConfig):
    name = "vardkontakt.kiosk"
    label = "kiosk"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The BankID QR code's login comes back through identity's callback as a "kiosk" purpose.
        from vardkontakt.identity.oidc import register_login_purpose
        from vardkontakt.kiosk.views import bankid_done

        register_login_purpose("kiosk", bankid_done)
