"""`make fuzz-fhir`: schemathesis against a live FHIR API, until a budget of requests is spent.

1. A throw-away demo installation in a temporary directory (SQLite, the demo region).
2. An integration client registered for one care unit, with most scopes but not all (no
   DiagnosticReport.write, no MedicationDispense.read), and a bearer token for it.
3. The OpenAPI description (vardkontakt/fhir/openapi.py) with that installation's identifiers.
4. gunicorn serving it; schemathesis runs (new seed each round) until the server's access log
   counts at least FUZZ_BUDGET requests.
5. Fails on any 5xx the server answered, any schemathesis failure (a 5xx, a token ignored, a
   2xx outside the client's scope: fuzz/fhir_hooks.py), and on the database afterwards: rows of
   another unit or of a type outside the scope, a resident renamed, a resident registered without
   record data.

    python fuzz/fhir.py --budget 10000    (make fuzz-fhir FUZZ_BUDGET=10000)
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv/bin/python")
MANAGE = [PY, str(ROOT / "manage.py")]

# Run inside Django (manage.py shell -c): register the client, make a token, describe the API.
PREPARE = r"""
import datetime as dt, json, sys
from django.utils import timezone
from vardkontakt.core.tokens import digest, new_secret
from vardkontakt.fhir.auth import all_scopes, client_create
from vardkontakt.fhir.models import IntegrationToken
from vardkontakt.fhir.openapi import Values, openapi_description
from vardkontakt.identity.models import Patient
from vardkontakt.organisation.models import CareUnit
from vardkontakt.records.models import LabResult

units = list(CareUnit.objects.order_by("hsa_id")[:3])
own = units[0]
scopes = [s for s in all_scopes() if s not in ("system/DiagnosticReport.write", "system/MedicationDispense.read")]
client, _ = client_create(client_id="fuzz", name="Fuzzer", source_system="fuzz", scopes=scopes, units=[own])
token = new_secret()
now = timezone.now()
IntegrationToken.objects.create(
    token_digest=digest(token), client=client, scopes=scopes, issued_at=now, expires_at=now + dt.timedelta(days=1)
)
patients = list(Patient.objects.order_by("personnummer")[:6])
numbers = [p.personnummer.replace("-", "") for p in patients] + ["199001012393", "199001012391", "20991301-0000"]
foreign = [str(pk) for pk in LabResult.objects.values_list("pk", flat=True)[:5]]
values = Values(
    personnummer=numbers,
    unit_hsa_ids=[u.hsa_id for u in units],
    row_ids=[str(p.pk) for p in patients] + foreign,
)
json.dump(openapi_description(values), open(f"{OUT}/openapi.json", "w"), ensure_ascii=False, indent=1)
context = {
    "token": token,
    "own_unit": own.hsa_id,
    "write_types": sorted({s.split("/")[1].split(".")[0] for s in scopes if s.endswith(".write")}),
    "read_types": sorted({s.split("/")[1].split(".")[0] for s in scopes if s.endswith(".read")}),
    "foreign_ids": foreign,
    "names": {str(p.pk): [p.given_name, p.family_name] for p in Patient.objects.all()},
    "patients": [str(pk) for pk in Patient.objects.values_list("pk", flat=True)],
}
json.dump(context, open(f"{OUT}/context.json", "w"))
"""

# Run inside Django afterwards: what the database says about the scope.
AUDIT = r"""
import json
from vardkontakt.access.models import AuditEntry
from vardkontakt.identity.models import Patient
from vardkontakt.records.models import CareContact, Diagnosis, LabResult, Medicine, RecordNote, RemovedEntry
context = json.load(open(f"{OUT}/context.json"))
problems = []
written = 0
for model in (CareContact, Diagnosis, LabResult, Medicine, RecordNote):
    rows = model.objects.filter(source_system="fuzz")
    written += rows.count()
    elsewhere = rows.exclude(unit__hsa_id=context["own_unit"]).count()
    if elsewhere:
        problems.append(f"{elsewhere} {model.__name__} rows written for another unit")
if LabResult.objects.filter(source_system="fuzz", report=True).exists():
    problems.append("DiagnosticReport rows written without system/DiagnosticReport.write")
for patient in Patient.objects.filter(pk__in=context["patients"]):
    if [patient.given_name, patient.family_name] != context["names"][str(patient.pk)]:
        problems.append(f"resident {patient.pk} renamed")
new = Patient.objects.exclude(pk__in=context["patients"])
for patient in new:
    # Registered with record data of the client's unit: an import entry naming a unit. (The data
    # may have moved on since: a later entry with the same business identifier and another subject.)
    imports = AuditEntry.objects.filter(
        patient_id=str(patient.pk), action__in=["fhir.import", "fhir.remove", "booking.external.import"]
    )
    if not imports.exclude(unit_id="").exists():
        problems.append(f"resident {patient.pk} registered without record data")
from vardkontakt.booking.external_models import ExternalAppointment
appointments = ExternalAppointment.objects.filter(source_system="fuzz")
written += appointments.count()
if appointments.exclude(unit__hsa_id=context["own_unit"]).exists():
    problems.append("Appointments written for another unit")
from vardkontakt.booking.external_models import ExternalSchedule, ExternalSlot
schedules = ExternalSchedule.objects.filter(source_system="fuzz")
slots = ExternalSlot.objects.filter(source_system="fuzz")
written += schedules.count() + slots.count()
if schedules.exclude(unit__hsa_id=context["own_unit"]).exists():
    problems.append("Schedules written for another unit")
if slots.exclude(schedule__source_system="fuzz").exists():
    problems.append("Slots written into another source system's schedule")
if appointments.filter(slot__isnull=False).exclude(slot__source_system="fuzz").exists():
    problems.append("Appointments booked in another source system's slot")
removed = RemovedEntry.objects.filter(source_system="fuzz").count()
json.dump({"problems": problems, "rows_written": written, "tombstones": removed, "registered": new.count()},
          open(f"{OUT}/audit.json", "w"))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def django(env: dict[str, str], code: str, out: Path) -> None:
    subprocess.run([*MANAGE, "shell", "-c", f"OUT = {str(out)!r}\n{code}"], env=env, check=True)


def served(log: Path) -> collections.Counter[str]:
    """Requests the server answered, by status, from its access log (the readiness probes aside)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "FUZZ":
            counts[parts[3]] += 1
    return counts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=int, default=int(os.environ.get("FUZZ_BUDGET", "10000")))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vk-fuzz-fhir-"))
    env = {
        **os.environ,
        "VK_DEMO": "true",
        "VK_VAR_DIR": str(work),
        "DATABASE_URL": f"sqlite:///{work / 'fuzz.sqlite3'}",
        "DJANGO_DEBUG": "false",
        "VK_LOG_LEVEL": "WARNING",
        # This checkout's code first (a second checkout's venv may point at another one's src).
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
    }
    started = time.monotonic()
    subprocess.run([*MANAGE, "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run([*MANAGE, "load_demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    django(env, PREPARE, work)
    context = json.loads((work / "context.json").read_text())
    port = free_port()
    log = work / "access.log"
    server_log = (work / "server.log").open("w")  # closed when the server has stopped
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "vardkontakt.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
            "--timeout",
            "120",
            "--access-logfile",
            str(log),
            "--access-logformat",
            "FUZZ %(m)s %(U)s %(s)s",
        ],
        env=env,
        cwd=ROOT,
        stderr=server_log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/fhir/metadata", timeout=2)
                break
            except OSError:
                time.sleep(0.2)
        operations = len(
            [op for path in json.loads((work / "openapi.json").read_text())["paths"].values() for op in path]
        )
        failed = False
        round_number = 0
        while sum(served(log).values()) < args.budget and round_number < 20:
            missing = args.budget - sum(served(log).values())
            per_operation = max(10, math.ceil(missing / operations))
            with (work / f"schemathesis-{round_number}.log").open("w") as output:
                run = subprocess.run(
                    [
                        str(ROOT / ".venv/bin/schemathesis"),
                        "run",
                        str(work / "openapi.json"),
                        "--url",
                        base,
                        "--header",
                        f"Authorization: Bearer {context['token']}",
                        "--checks",
                        "not_a_server_error,ignored_auth,accepted_only_within_scope",
                        "--max-examples",
                        str(per_operation),
                        "--seed",
                        str(args.seed + round_number),
                        "--phases",
                        "examples,coverage,fuzzing",
                        "--workers",
                        "1",
                        "--suppress-health-check",
                        "all",
                        "--continue-on-failure",
                        "--no-color",
                    ],
                    env={**env, "SCHEMATHESIS_HOOKS": "fuzz.fhir_hooks", "FUZZ_CONTEXT": str(work / "context.json")},
                    cwd=ROOT,
                    stdout=output,
                    stderr=subprocess.STDOUT,
                )
            failed |= run.returncode != 0
            round_number += 1
    finally:
        server.terminate()
        server.wait(timeout=30)
        server_log.close()
    django(env, AUDIT, work)
    audit = json.loads((work / "audit.json").read_text())
    counts = served(log)
    errors = sum(n for status, n in counts.items() if status.startswith("5"))
    seconds = time.monotonic() - started
    report = {
        "requests": sum(counts.values()),
        "by_status": dict(sorted(counts.items())),
        "server_errors": errors,
        "schemathesis_rounds": round_number,
        "schemathesis_failed": failed,
        "seconds": round(seconds, 1),
        **audit,
        "directory": str(work),
    }
    print(json.dumps(report, indent=1))
    if failed:
        for path in sorted(work.glob("schemathesis-*.log")):
            text = path.read_text(errors="replace")
            if "FAILURES" in text or "Failed" in text:
                print(f"--- {path.name} ---\n{text[-6000:]}")
    ok = not failed and errors == 0 and not audit["problems"] and report["requests"] >= args.budget
    if ok and not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)
    print("fuzz-fhir:", "passed" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
