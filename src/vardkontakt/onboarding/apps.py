from django.apps import AppConfig


class OnboardingConfig(AppConfig):
    """Onboarding a unit and the unit administrator's page: workflows over organisation, access,
    notifications and cases. Their models stay in organisation."""

    name = "vardkontakt.onboarding"
    label = "onboarding"
