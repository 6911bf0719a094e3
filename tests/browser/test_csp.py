"""The real Content Security Policy in force (no bypass): the pages' own script runs, nothing is refused."""

from __future__ import annotations

import pytest

from tests.browser.conftest import AXE

pytestmark = pytest.mark.django_db(transaction=True)


def test_pages_run_their_scripts_under_the_strict_policy(browser, site):
    context = browser.new_context()
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None
    )
    page.goto(site + "/")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => document.body.classList.contains('nhsuk-frontend-supported')")
    assert refused == []
    # axe cannot be injected here, which is the point; the other browser tests run it with bypass.
    with pytest.raises(Exception):  # noqa: B017
        page.add_script_tag(path=str(AXE))
        page.evaluate("() => axe.version")
    context.close()
