"""The compiled theme: ours, not the NHS's."""

from pathlib import Path

from django.conf import settings

BUILD = Path(settings.PACKAGE_DIR) / "static" / "vardkontakt" / "build"


def test_the_stylesheet_is_compiled_from_nhsuk_frontend_with_our_colours():
    css = (BUILD / "main.css").read_text()
    assert ".nhsuk-header" in css
    assert "#0b5560" in css.lower()
    for nhs_blue in ("#005eb8", "#003087"):
        assert nhs_blue not in css.lower()
    assert "Frutiger" not in css


def test_the_frontend_script_is_served_locally():
    assert (BUILD / "nhsuk-frontend.min.js").stat().st_size > 10_000
