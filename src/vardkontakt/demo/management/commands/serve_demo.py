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

from vardkontakt.demo.demo_data import staff_hsa_id
from vardkontakt.identity.models import Patient, Staff


class Command(BaseCommand):
    help = "Run the web server and the task worker for the demo on 127.0.0.1:8000."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--addr", default="127.0.0.1:8000")

    def handle(self, *args: Any, **options: Any) -> None:
        self._print_logins(options["addr"])
        manage = [sys.executable, "-m", "django"]
        # The demo, said explicitly, and never DEBUG: visitors see the service's own Swedish error
        # pages, not Django's debug page with its settings and tracebacks.
        env = {**os.environ, "VK_DEMO": "true", "DJANGO_DEBUG": "false"}
        processes = [
            subprocess.Popen([*manage, "run_worker"], env=env),  # noqa: S603
            # --noreload: one process, so Ctrl-C and the worker stop together; runserver is threaded,
            # which the relying party needs to call the demo provider on the same server.
            subprocess.Popen([*manage, "runserver", "--noreload", options["addr"]], env=env),  # noqa: S603
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
        self.stdout.write(self.style.SUCCESS(f"\nVårdkontakt demo on http://{addr}/  (Ctrl-C stops it)\n"))
        self.stdout.write("Log in with 'Log in with e-ID' or 'SITHS' and pick a person in the demo provider:")
        tolvan = Patient.objects.filter(personnummer="191212121212").first()
        if tolvan:
            self.stdout.write(f"  resident: {tolvan.full_name}  {tolvan.personnummer_display}")
        for patient in Patient.objects.filter(family_name__in=["Föräldersson", "Omsorgsdotter"]):
            self.stdout.write(f"  resident: {patient.full_name}  {patient.personnummer_display}")
        for staff in Staff.objects.filter(hsa_id__in=[staff_hsa_id(1), staff_hsa_id(2)]):
            self.stdout.write(f"  staff:    {staff.full_name} ({staff.get_profession_display()})  {staff.hsa_id}")
        self.stdout.write(f"  site URL: {settings.SITE_URL}\n")
