from django.apps import AppConfig


class RegionsConfig(AppConfig):
    """A region's own installation: the bootstrap and the region administrators' work on their
    organisation, staff and rules (a workflow over organisation, identity and access)."""

    name = "vardkontakt.regions"
    label = "regions"
