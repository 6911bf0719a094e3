"""The data of the node fault tests, made on the layout's primary by a process of its own.

Run by tests/faults/conftest.py as ``python -m tests.faults.nodes_data OUT.json`` with the
layout's environment (the primary directly, its Redis for the sessions, its secret key): the
demo region, a visit type with a pool of future slots (bench/booking_rush.py's make_data, made
smaller), residents each logged in with a session in Redis (what a completed login leaves
there), and an advice service to write cases to. Writes the ids and the session cookies as JSON.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(out: Path) -> None:
    from bench import booking_rush as rush

    rush.RESIDENTS = int(os.environ.get("FAULTS_RESIDENTS", "24"))
    rush.POOL_SLOTS = int(os.environ.get("FAULTS_POOL_SLOTS", "20000"))
    rush.django_setup(os.environ["VK_VAR_DIR"])
    from django.core.management import call_command
    from django.test import Client

    from vardkontakt.cases.defaults import ServiceKind
    from vardkontakt.cases.models import Case, Service
    from vardkontakt.cases.services import service_activate
    from vardkontakt.identity.models import Staff
    from vardkontakt.organisation.models import CareUnit

    call_command("load_demo", "--no-activity", verbosity=0, stdout=io.StringIO())
    data = rush.make_data()
    unit = CareUnit.objects.get(pk=data.unit_id)
    service = Service.objects.filter(unit=unit, kind=ServiceKind.ADVICE, active=True).first()
    if service is None:
        admin = Staff.objects.filter(memberships__unit=unit, memberships__role="unit_admin").first()
        assert admin is not None, "the demo unit has no administrator"
        service = service_activate(unit=unit, kind=ServiceKind.ADVICE, by=admin)
    # One case through the pages as a check that the form is what the clients will send.
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies["vk_session"] = data.residents[0].session
    answer = client.post(
        f"/cases/new/{unit.pk}/{service.pk}/", {"what": "Prov.", "idempotency_key": "nodes-data-check", "step": "send"}
    )
    assert answer.status_code == 302, (answer.status_code, answer.content[:2000])
    Case.objects.filter(idempotency_key="nodes-data-check").delete()
    out.write_text(
        json.dumps(
            {
                "unit_id": data.unit_id,
                "visit_type_id": data.visit_type_id,
                "pool": data.pool,
                "sessions": [r.session for r in data.residents],
                "service_id": str(service.pk),
            }
        )
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
