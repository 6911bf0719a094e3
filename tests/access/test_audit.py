"""The audit log: every entry chained to the one before; tampering is found and named."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from vardkontakt.access.audit import SYSTEM, Actor, audit, verify_chain
from vardkontakt.access.models import AuditEntry

pytestmark = pytest.mark.django_db


def write(count: int) -> list[AuditEntry]:
    return [audit(actor=SYSTEM, action="guardianship.import", detail=f"entry {n}") for n in range(count)]


def raw_update(sql: str, params: list[Any]) -> None:
    """Change the table behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_auditentry DISABLE TRIGGER access_auditentry_append_only")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE access_auditentry ENABLE TRIGGER access_auditentry_append_only")


def test_an_untouched_chain_verifies(db):
    entries = write(5)
    assert [e.sequence for e in entries] == [1, 2, 3, 4, 5]
    assert entries[1].previous_hash == entries[0].entry_hash
    report = verify_chain()
    assert report.intact and report.checked == 5
    call_command("audit_verify")


def test_a_changed_entry_is_named(db):
    write(5)
    raw_update("UPDATE access_auditentry SET detail = %s WHERE sequence = %s", ["nothing to see", 3])
    report = verify_chain()
    assert report.broken_at == 3
    assert "content" in report.reason
    with pytest.raises(CommandError, match="broken at entry 3"):
        call_command("audit_verify")


def test_a_removed_entry_is_named(db):
    write(5)
    raw_update("DELETE FROM access_auditentry WHERE sequence = %s", [2])
    assert verify_chain().broken_at == 2


def test_a_removed_last_entry_is_found(db):
    write(3)
    raw_update("DELETE FROM access_auditentry WHERE sequence = %s", [3])
    report = verify_chain()
    assert report.broken_at == 3


def test_a_rehashed_forgery_still_breaks_the_next_link(db):
    """An intruder who recomputes the changed entry's own hash still breaks the link after it."""
    from vardkontakt.access.audit import _digest, _values

    write(4)
    forged = AuditEntry.objects.get(sequence=2)
    forged.detail = "forged"
    new_hash = _digest(_values(forged))
    raw_update("UPDATE access_auditentry SET detail = %s, entry_hash = %s WHERE sequence = %s", ["forged", new_hash, 2])
    assert verify_chain().broken_at == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL")
def test_postgresql_refuses_to_update_or_delete_entries(db):
    write(1)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(sequence=1).update(detail="changed")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(sequence=1).delete()
    assert AuditEntry.objects.get(sequence=1).detail == "entry 0"


def test_an_entry_rolls_back_with_the_change_it_describes(db):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit(actor=SYSTEM, action="guardianship.import")
        raise RuntimeError
    assert not AuditEntry.objects.exists()
    audit(actor=SYSTEM, action="guardianship.import")
    assert verify_chain().intact


def test_entries_carry_actor_subject_and_request_id(client, personas):
    from tests.helpers import login_as
    from vardkontakt.identity.models import User

    login_as(client, User.objects.get_or_create_for_patient(personas.adult_proxy))
    response = client.post("/acting-for/", {"subject": str(personas.principal.pk)})
    assert response.status_code == 302
    entry = AuditEntry.objects.filter(action="acting.switch").get()
    assert entry.actor_id == str(personas.adult_proxy.pk)
    assert entry.actor_label == personas.adult_proxy.full_name
    assert entry.on_behalf_of_id == str(personas.principal.pk)
    assert entry.patient_id == str(personas.principal.pk)
    assert entry.request_id == response["X-Request-ID"]
    assert entry.outcome == "allowed"


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_unbroken_chain():
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                audit(actor=Actor("system", "", f"writer {n}"), action="guardianship.import", detail=str(i))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    report = verify_chain()
    assert report.intact
    assert report.checked == 40
