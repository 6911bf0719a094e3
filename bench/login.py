"""The cost of a whole OpenID Connect login, against an ordinary logged-in page view.

A production-shaped server (gunicorn, threaded workers, a fresh SQLite database with the demo
region) runs on loopback. One client measures, in the same run:
- baseline: the resident's home page, already logged in;
- subject: a complete login (start → demo provider chooser → code → callback → token exchange
  and ID token verification → home), as a browser would do it.
The ratio says how many page views one login costs.
"""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
LOGINS = 60
PAGE_VIEWS = 300
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', html)
    assert match, name
    return match[1]


def login(base: str, browser: requests.Session) -> None:
    start = browser.get(f"{base}/login/resident/", allow_redirects=False, timeout=30)
    chooser = browser.get(start.headers["Location"], timeout=30)
    fields = {
        "csrfmiddlewaretoken": hidden(chooser.text, "csrfmiddlewaretoken"),
        "request": hidden(chooser.text, "request"),
        "person": "191212121212",
        "acr": LOA3,
        "login": "1",
    }
    answer = browser.post(chooser.url, data=fields, headers={"Referer": chooser.url}, timeout=30)
    assert answer.url.endswith("/patient/"), answer.url


def timed(action, count: int) -> list[float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(count):
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "count": len(samples),
        "median_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "per_second": round(len(samples) / sum(samples), 1),
    }


def run() -> dict[str, object]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as var:
        env = {
            **os.environ,
            "VK_DEMO": "true",
            "DJANGO_DEBUG": "false",
            "VK_VAR_DIR": var,
            "VK_SITE_URL": base,
            # The benchmark logs in from one address as fast as it can: no rate limit is measured here.
            "VK_RATE_LIMIT_LOGIN_STARTS_PER_MINUTE": "1000000",
            "VK_RATE_LIMIT_DEMO_IDP_PER_MINUTE": "1000000",
            "DJANGO_SETTINGS_MODULE": "vardkontakt.settings",
        }
        env.pop("DATABASE_URL", None)
        manage = [sys.executable, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v0"], env=env, check=True)
        subprocess.run([*manage, "load_demo", "-v0"], env=env, check=True)
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "vardkontakt.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "--worker-class",
                "gthread",
                "--threads",
                "4",
                "--workers",
                "2",
                "--no-control-socket",
                "--log-level",
                "warning",
                "--preload",
            ],
            env=env,
        )
        try:
            for _ in range(100):
                try:
                    requests.get(f"{base}/", timeout=1)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
            # Warm up both paths (discovery and JWKS are fetched once per process and cached).
            for _ in range(4):
                login(base, requests.Session())
            browser = requests.Session()
            login(base, browser)
            pages = timed(lambda: browser.get(f"{base}/patient/", timeout=30).raise_for_status(), PAGE_VIEWS)
            logins = timed(lambda: login(base, requests.Session()), LOGINS)
        finally:
            server.terminate()
            server.wait(timeout=10)
    baseline = summary(pages)
    subject = summary(logins)
    return {
        "what": "complete OIDC login (6 requests, token exchange, ID token verification) vs one logged-in page view",
        "server": "gunicorn gthread, 2 workers x 4 threads, SQLite (WAL), demo region, one sequential client",
        "baseline_page_view": baseline,
        "subject_login": subject,
        "ratio_login_to_page_view_median": round(subject["median_ms"] / baseline["median_ms"], 2),
    }
