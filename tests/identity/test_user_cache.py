"""The session's user from the shared cache (identity/user_cache.py, issue 20): a logged-in page
asks the database nothing about who is logged in, yet any change to the user, their patient row or
their staff row is seen on the very next request, also when it was made without a signal."""

from __future__ import annotations

import html
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.booking.helpers import client_for
from tests.regions.helpers import client_of
from vardkontakt.identity import user_cache
from vardkontakt.identity.models import Patient, Staff, User

pytestmark = pytest.mark.django_db


def user_queries(captured: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in captured.captured_queries if 'FROM "identity_user"' in q["sql"]]


def test_a_logged_in_page_reads_nobody_from_the_database_after_the_first(personas):
    tolvan = client_for(personas.tolvan)
    assert tolvan.get("/patient/").status_code == 200
    with CaptureQueriesContext(connection) as captured:
        page = tolvan.get("/patient/")
    assert page.status_code == 200 and personas.tolvan.full_name in html.unescape(page.text)
    assert user_queries(captured) == []


def test_a_change_of_name_is_on_the_next_page(personas):
    tolvan = client_for(personas.tolvan)
    assert personas.tolvan.full_name in html.unescape(tolvan.get("/patient/").text)
    patient = Patient.objects.get(pk=personas.tolvan.pk)
    patient.given_name = "Tolvanna"
    patient.save()
    assert "Tolvanna" in tolvan.get("/patient/").text


def test_staff_whose_access_ends_without_a_signal_are_logged_out_at_the_next_request(personas):
    """As the nightly catalogue job ends access (QuerySet.update, then user_forget)."""
    nurse = client_of(personas.staff_x)
    assert nurse.get("/staff/").status_code == 200
    Staff.objects.filter(pk=personas.staff_x.pk).update(access_ended_at=timezone.now())
    user_cache.user_forget([personas.staff_x.user_id])
    assert nurse.get("/staff/").status_code == 302


def test_a_copy_loaded_before_a_change_and_stored_after_it_is_never_used(personas):
    """A request reads the old row, another commits a change (the token replaced), then the first
    stores its copy: the next request must still read the database."""
    user = User.objects.get_or_create_for_patient(personas.tolvan)
    _, user_key = user_cache._keys(user.pk)
    assert user_cache.user_for_session(user.pk) is not None  # a token and a copy are stored
    old_copy = cache.get(user_key)
    Patient.objects.filter(pk=personas.tolvan.pk).update(given_name="Ändrad")
    user_cache.user_forget([user.pk])
    cache.set(user_key, old_copy)  # the slow request's write, after the change
    assert user_cache.user_for_session(user.pk).patient.given_name == "Ändrad"  # type: ignore[union-attr]


def test_the_forget_is_repeated_at_the_commit(personas, django_capture_on_commit_callbacks):
    """Between the change's save and its commit a request may store the old row under the new
    token (it cannot see the change yet): the commit replaces the token once more."""
    user = User.objects.get_or_create_for_patient(personas.tolvan)
    token_key, user_key = user_cache._keys(user.pk)
    old = user_cache.user_for_session(user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        patient = Patient.objects.get(pk=personas.tolvan.pk)
        patient.given_name = "Inne"
        patient.save()
        cache.set(user_key, (cache.get(token_key), old))  # a request before the commit
    assert user_cache.user_for_session(user.pk).patient.given_name == "Inne"  # type: ignore[union-attr]


def test_each_request_gets_a_copy_of_its_own(personas):
    user = User.objects.get_or_create_for_patient(personas.tolvan)
    first = user_cache.user_for_session(user.pk)
    assert first is not None and first.patient is not None
    first.patient.given_name = "Ändrad i en request"
    second = user_cache.user_for_session(user.pk)
    assert second is not None and second is not first
    assert second.patient.given_name == personas.tolvan.given_name


def test_without_the_cache_the_user_is_read_from_the_database(personas, settings):
    settings.USER_CACHE_SECONDS = 0
    tolvan = client_for(personas.tolvan)
    tolvan.get("/patient/")
    with CaptureQueriesContext(connection) as captured:
        assert tolvan.get("/patient/").status_code == 200
    assert len(user_queries(captured)) == 1


def test_a_cache_that_cannot_be_read_falls_back_to_the_database(personas, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "get_many", broken)
    user = User.objects.get_or_create_for_patient(personas.tolvan)
    found = user_cache.user_for_session(user.pk)
    assert found is not None and found.patient.pk == personas.tolvan.pk


def test_a_deleted_user_is_not_found(personas):
    user = User.objects.get_or_create_for_patient(personas.child_9)
    assert user_cache.user_for_session(user.pk) is not None
    user.delete()
    assert user_cache.user_for_session(user.pk) is None


@pytest.mark.parametrize("who", ["tolvan", "staff_x"])
def test_a_miss_reads_the_user_and_their_person_as_the_orm_would_in_one_query(personas, who):
    """The read is compiled once per process (core/compiled.py): the same rows as its ORM
    definition, with the patient or staff row of the user in the same query."""
    person = getattr(personas, who)
    user_id = (
        person.user_id
        or (
            User.objects.get_or_create_for_patient(person)
            if who == "tolvan"
            else User.objects.get_or_create_for_staff(person)
        ).pk
    )
    defined = user_cache._user_with_person.queryset(user_id=user_id).get()
    with CaptureQueriesContext(connection) as captured:
        loaded = user_cache._load(user_id)
        assert loaded is not None
        side = loaded.patient if who == "tolvan" else loaded.staff
        other = "staff" if who == "tolvan" else "patient"
        assert not hasattr(loaded, other)  # nobody on the other side, known without a query
    assert len(captured) == 1
    fields = [f.attname for f in User._meta.concrete_fields]
    assert [getattr(loaded, f) for f in fields] == [getattr(defined, f) for f in fields]
    assert (side.pk, side.full_name) == (person.pk, person.full_name)
    assert user_cache._load(str(user_id)) is not None  # as the session keeps it
    assert user_cache._load(uuid.uuid4()) is None
