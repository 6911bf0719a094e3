"""Two first logins of the same new resident at the same moment register them once."""

from __future__ import annotations

import threading

import pytest

from tests.identity.test_oidc_login import choose
from vardkontakt.demo.demo_data import personnummer
from vardkontakt.identity.models import Patient, User

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_first_logins_create_one_patient_and_one_user(site):
    import datetime as dt

    number = personnummer(dt.date(1990, 4, 17), 123)
    flows = [choose(site, number, given_name="Ny", family_name="Invånare") for _ in range(4)]
    barrier = threading.Barrier(len(flows))
    statuses: list[int] = []

    def complete(flow):
        barrier.wait()
        response = flow.session.get(flow.callback, allow_redirects=False, timeout=30)
        statuses.append(response.status_code)

    threads = [threading.Thread(target=complete, args=(flow,)) for flow in flows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302] * len(flows)
    assert Patient.objects.filter(personnummer=number).count() == 1
    assert User.objects.filter(login_key=f"patient:{number}").count() == 1
