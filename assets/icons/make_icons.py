"""Render the app icons (PNG) from their SVG sources with Chromium, as the browser would draw them.

Run from the checkout: .venv/bin/python assets/icons/make_icons.py
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
OUT = HERE.parents[1] / "src" / "vardkontakt" / "static" / "vardkontakt" / "img"
ICONS = [
    ("app-icon.svg", "app-icon-192.png", 192),
    ("app-icon.svg", "app-icon-512.png", 512),
    ("app-icon-maskable.svg", "app-icon-maskable-512.png", 512),
]


def main() -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for source, target, size in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            svg = (HERE / source).read_text(encoding="utf-8").replace('width="512" height="512"', "")
            page.set_content(
                f'<html><body style="margin:0;background:transparent">'
                f'<div style="width:{size}px;height:{size}px">{svg}</div></body></html>'
            )
            page.screenshot(
                path=str(OUT / target), omit_background=True, clip={"x": 0, "y": 0, "width": size, "height": size}
            )
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
