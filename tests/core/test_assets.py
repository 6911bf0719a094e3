"""The compiled theme: ours, not the NHS's."""

import re
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


def test_every_file_the_stylesheet_names_is_there():
    # Production's collectstatic (ManifestStaticFilesStorage) refuses a stylesheet whose url()
    # names a missing file; the demo would only show a broken icon.
    css = (BUILD / "main.css").read_text()
    named = {url for url in re.findall(r'url\("?([^")]+)"?\)', css) if not url.startswith(("data:", "#"))}
    assert named, "the stylesheet names no files: has the pattern above stopped matching?"
    missing = sorted(url for url in named if not (BUILD / url).resolve().is_file())
    assert missing == []
