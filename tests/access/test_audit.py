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


# --- an insider with database access (keyed hashes, signed checkpoints outside the database) -----


def plain_sha256(values: dict[str, Any]) -> str:
    """What an intruder without the key can compute: the unkeyed hash of an entry."""
    import hashlib

    from vardkontakt.access.audit import _canonical

    return hashlib.sha256(_canonical(values)).hexdigest()


def rechain(from_sequence: int, digest, changes: dict[str, Any]) -> None:
    """Rewrite one entry and recompute every hash and link after it with ``digest``, and the head:
    a copy of the database that is consistent in itself."""
    from vardkontakt.access.audit import _values

    entries = list(AuditEntry.objects.filter(sequence__gte=from_sequence).order_by("sequence"))
    previous = AuditEntry.objects.get(sequence=from_sequence - 1).entry_hash if from_sequence > 1 else "0" * 64
    for entry in entries:
        if entry.sequence == from_sequence:
            for name, value in changes.items():
                setattr(entry, name, value)
        entry.previous_hash = previous
        entry.entry_hash = digest(_values(entry))
        raw_update(
            "UPDATE access_auditentry SET detail = %s, previous_hash = %s, entry_hash = %s, hash_version = %s "
            "WHERE sequence = %s",
            [entry.detail, entry.previous_hash, entry.entry_hash, entry.hash_version, entry.sequence],
        )
        previous = entry.entry_hash
    raw_update("UPDATE access_audithead SET last_hash = %s WHERE id = 1", [previous])


def cut_last(count: int) -> None:
    last = AuditEntry.objects.order_by("-sequence").first()
    assert last is not None
    keep = last.sequence - count
    raw_update("DELETE FROM access_auditentry WHERE sequence > %s", [keep])
    kept = AuditEntry.objects.get(sequence=keep)
    raw_update("UPDATE access_audithead SET sequence = %s, last_hash = %s WHERE id = 1", [keep, kept.entry_hash])


def test_a_checkpoint_is_written_outside_the_database_every_n_entries(settings, django_capture_on_commit_callbacks):
    from vardkontakt.access.checkpoints import path, read_checkpoints

    settings.AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        write(12)
    points = read_checkpoints().valid
    assert [p.sequence for p in points] == [5, 10]
    assert points[1].entry_hash == AuditEntry.objects.get(sequence=10).entry_hash
    assert str(path()).startswith(str(settings.AUDIT_CHECKPOINT_DIR))
    report = verify_chain()
    assert report.intact and report.checkpoints == 2


def test_the_last_five_entries_cut_off_are_found(settings, django_capture_on_commit_callbacks):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        write(10)
    cut_last(5)
    report = verify_chain()
    assert report.broken_at == 6
    assert "cut off the end" in report.reason and "entry 10" in report.reason
    with pytest.raises(CommandError, match="cut off the end"):
        call_command("audit_verify")


def test_a_rewritten_entry_with_the_chain_recomputed_is_found_without_the_key(db):
    write(5)
    rechain(3, plain_sha256, {"detail": "nothing to see"})
    report = verify_chain()
    assert report.broken_at == 3
    assert "content does not match" in report.reason


def test_a_rechained_log_passed_off_as_unkeyed_is_found(db):
    """Relabelling the rewritten entries as the old unkeyed kind is refused after a keyed one."""
    write(5)
    rechain(3, plain_sha256, {"detail": "nothing to see", "hash_version": 0})
    report = verify_chain()
    assert report.broken_at == 3
    assert "unkeyed" in report.reason


def test_a_rewrite_by_someone_who_has_the_key_is_found_by_the_checkpoints(settings, django_capture_on_commit_callbacks):
    from vardkontakt.access.audit import _digest

    settings.AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        write(7)
    rechain(2, _digest, {"detail": "forged with the key"})
    report = verify_chain()
    assert report.broken_at == 5
    assert "signed checkpoint" in report.reason and "rewritten" in report.reason


def test_a_forged_checkpoint_is_found(settings, django_capture_on_commit_callbacks):
    import json

    from vardkontakt.access.checkpoints import path

    settings.AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        write(5)
    line = json.loads(path().read_text().splitlines()[0])
    line["sequence"] = 3
    with path().open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    report = verify_chain()
    assert not report.intact
    assert "signature invalid" in report.reason


def test_a_missing_checkpoint_is_reported(settings):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from vardkontakt.access.checkpoints import checkpoint_if_due, overdue_after

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        write(3)
        assert verify_chain().intact  # not yet due
    later = start + overdue_after() + dt.timedelta(seconds=1)
    report = verify_chain(now=later)
    assert report.broken_at == 1
    assert "checkpoint missing" in report.reason
    # The worker's periodic checkpoint covers them.
    with time_machine.travel(later, tick=False):
        point = checkpoint_if_due()
        assert point is not None and point.sequence == 3
        assert checkpoint_if_due() is None  # nothing new since
        assert verify_chain().intact


def test_the_worker_writes_a_checkpoint_only_when_the_log_grew_and_the_last_is_old(settings):
    import datetime as dt

    import time_machine
    from django.utils import timezone

    from vardkontakt.access.checkpoints import checkpoint_if_due

    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        assert checkpoint_if_due() is None  # an empty log
        write(2)
        first = checkpoint_if_due()
        assert first is not None and first.sequence == 2
        write(1)
        assert checkpoint_if_due() is None  # the newest is fresh
        traveller.shift(dt.timedelta(minutes=settings.AUDIT_CHECKPOINT_MINUTES))
        second = checkpoint_if_due()
        assert second is not None and second.sequence == 3


def test_the_key_is_not_in_the_database(db, settings):
    """Another key gives other hashes: a database copy alone verifies nothing."""
    write(2)
    assert verify_chain().intact
    settings.AUDIT_KEY = "another-key-" + "x" * 40
    assert verify_chain().broken_at == 1


def test_entries_from_before_keyed_hashes_still_verify_at_the_start_of_the_chain(db):
    """Rows written before the upgrade carry plain SHA-256 (hash_version 0) and stay valid."""
    from vardkontakt.access.audit import _values

    write(3)
    first = AuditEntry.objects.get(sequence=1)
    raw_update(
        "UPDATE access_auditentry SET hash_version = 0, entry_hash = %s WHERE sequence = 1",
        [plain_sha256(_values(first))],
    )
    second = AuditEntry.objects.get(sequence=2)
    second.previous_hash = plain_sha256(_values(first))
    from vardkontakt.access.audit import _digest

    raw_update(
        "UPDATE access_auditentry SET previous_hash = %s, entry_hash = %s WHERE sequence = 2",
        [second.previous_hash, _digest(_values(second))],
    )
    third = AuditEntry.objects.get(sequence=3)
    third.previous_hash = _digest(_values(second))
    raw_update(
        "UPDATE access_auditentry SET previous_hash = %s, entry_hash = %s WHERE sequence = 3",
        [third.previous_hash, _digest(_values(third))],
    )
    raw_update("UPDATE access_audithead SET last_hash = %s WHERE id = 1", [_digest(_values(third))])
    assert verify_chain().intact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants: PostgreSQL")
def test_the_application_role_cannot_disable_the_trigger_or_change_entries(db):
    """The web and worker processes connect as a plain role (db_grant_app_role): it appends and reads
    the log, and can neither disable the append-only trigger nor update, delete or truncate."""
    write(1)
    role = "vk_test_app_role"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} NOLOGIN")
    call_command("db_grant_app_role", role, "--apply", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {role}")
        try:
            audit(actor=SYSTEM, action="guardianship.import", detail="as the application")
            for statement, message in [
                ("ALTER TABLE access_auditentry DISABLE TRIGGER access_auditentry_append_only", "must be owner"),
                ("UPDATE access_auditentry SET detail = 'x'", "permission denied"),
                ("DELETE FROM access_auditentry", "permission denied"),
                ("TRUNCATE access_auditentry", "permission denied"),
            ]:
                with pytest.raises(DatabaseError, match=message), transaction.atomic():
                    cursor.execute(statement)
        finally:
            cursor.execute("RESET ROLE")
    assert AuditEntry.objects.count() == 2
    assert verify_chain().intact


@pytest.mark.skipif(connection.vendor != "postgresql", reason="roles and grants: PostgreSQL")
def test_the_grants_are_refused_for_the_owner_or_a_superuser(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        me = cursor.fetchone()[0]
    with pytest.raises(CommandError, match="superuser or the tables' owner"):
        call_command("db_grant_app_role", me, "--apply", verbosity=0)


def test_an_append_is_the_head_read_and_one_statement_on_postgresql(db, django_assert_num_queries):
    """The head's lock and read, then the entries' insert with the head moved (one CTE on PostgreSQL;
    an insert and an update elsewhere): the entries come back with their ids and the chain holds."""
    from vardkontakt.access.audit import AuditLine, audit_many

    write(1)
    statements = 2 if connection.vendor == "postgresql" else 3
    with django_assert_num_queries(statements):
        entry = audit(actor=SYSTEM, action="guardianship.import", detail="counted")
    assert AuditEntry.objects.get(pk=entry.pk).detail == "counted"
    with django_assert_num_queries(statements):
        assert (
            audit_many(
                actor=SYSTEM,
                action="guardianship.import",
                lines=[AuditLine(None, detail=f"many {n}") for n in range(3)],
            )
            == 3
        )
    assert list(AuditEntry.objects.values_list("sequence", "detail").order_by("sequence")[1:]) == [
        (2, "counted"),
        (3, "many 0"),
        (4, "many 1"),
        (5, "many 2"),
    ]
    report = verify_chain()
    assert report.intact and report.checked == 5
