from django.apps import AppConfig


class HomeConfig(AppConfig):
    """The start page and the residents' and staff's homes: a workflow over the domain apps."""

    name = "vardkontakt.home"
    label = "home"
