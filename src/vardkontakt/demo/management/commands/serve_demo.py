"""Serve the demo: the web server and the task worker together; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from vardkontakt.demo.logins import login_lines


class Command(BaseCommand):
    help = "Run the web server and the task worker for the demo on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        self._print_logins(options["addr"])
        host, _, port = options["addr"].rpartition(":")
        manage = [sys.executable, "-m", "django"]
        # The demo, said explicitly, and never DEBUG: visitors see the service's own Swedish error
        # pages, not Django's debug page with its settings and tracebacks.
        env = {**os.environ, "VK_DEMO": "true", "DJANGO_DEBUG": "false"}
        processes = [
            subprocess.Popen([*manage, "run_worker"], env=env),  # noqa: S603
            # uvicorn serves the pages and the video visits' WebSockets (asgi.py); each request's
            # view runs in a thread of its own, which the relying party needs to call the demo
            # provider on the same server. One process with the in-memory channel layer: every
            # socket of a room meets in it (several processes would need VK_REDIS_URL).
            subprocess.Popen(  # noqa: S603
                [sys.executable, "-m", "uvicorn", "vardkontakt.asgi:application", "--host", host, "--port", port],
                env=env,
            ),
        ]

        def stop(*_: Any) -> None:
            for process in processes:
                if process.poll() is None:
                    process.terminate()
            for process in processes:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
            sys.exit(0)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        self.stderr.write("A demo process stopped; stopping the other.")
        stop()

    def _print_logins(self, addr: str) -> None:
        self.stdout.write(self.style.SUCCESS(f"\nVårdkontakt-demo på http://{addr}/  (Ctrl-C stoppar den)\n"))
        self.stdout.write("Sidorna är på svenska (English längst upp på sidan). Alla personer är påhittade.")
        for line in login_lines():
            self.stdout.write(line)
        self.stdout.write(f"  webbplatsens adress: {settings.SITE_URL}\n")
