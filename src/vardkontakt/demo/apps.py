from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo region (invented people and units) and the commands that load and serve it. Nothing
    in production code imports it (import-linter's contract in pyproject.toml)."""

    name = "vardkontakt.demo"
    label = "demo"
