"""While the database is unreachable the pages answer 503 with Retry-After, never a 500 traceback."""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import InterfaceError, InternalError, OperationalError, ProgrammingError, connection
from django.test import Client

from tests.helpers import login_as
from vardkontakt.core.views import DATABASE_UNAVAILABLE_RETRY_AFTER
from vardkontakt.identity.models import User

pytestmark = pytest.mark.django_db


def _failing_with(exception: Exception):
    def execute(execute, sql, params, many, context):
        raise exception

    return execute


def _from_the_driver(cause: psycopg.Error) -> InternalError:
    """Django's InternalError around psycopg's, as its wrap_database_errors raises it."""
    error = InternalError(*cause.args)
    error.__cause__ = cause
    return error


def _signed_in(personas, language: str = "") -> Client:
    client = Client(raise_request_exception=False)
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return login_as(client, User.objects.get_or_create_for_patient(personas.tolvan))


@pytest.mark.parametrize(
    "exception",
    [
        OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused"),
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
        # The driver read two results for one command (PgBouncer's error about a broken server
        # connection arriving before BEGIN's answer; seen in make faults while PostgreSQL restarted).
        _from_the_driver(psycopg.InternalError("received 2 results from command 'BEGIN'")),
    ],
)
def test_a_page_answers_503_with_retry_after_while_the_database_is_down(exception, personas):
    client = _signed_in(personas)
    with connection.execute_wrapper(_failing_with(exception)):
        response = client.get("/patient/")
    assert response.status_code == 503
    assert response["Retry-After"] == str(DATABASE_UNAVAILABLE_RETRY_AFTER)
    assert response["Cache-Control"] == "no-store"
    assert "Traceback" not in response.text
    assert "Tjänsten är tillfälligt otillgänglig" in response.text
    # Once the database answers again, so does the page.
    assert client.get("/patient/").status_code == 200


def test_the_503_page_speaks_english_to_someone_who_chose_english(personas):
    client = _signed_in(personas, language="en")
    with connection.execute_wrapper(_failing_with(OperationalError("the database system is starting up"))):
        response = client.get("/patient/")
    assert response.status_code == 503
    assert "The service is briefly unavailable" in response.text
    assert f"Please try again in {DATABASE_UNAVAILABLE_RETRY_AFTER} seconds" in response.text


def test_a_bug_is_still_a_plain_500_without_a_promise_to_retry(personas):
    client = _signed_in(personas)
    with connection.execute_wrapper(_failing_with(ProgrammingError('column "kind" does not exist'))):
        response = client.get("/patient/")
    assert response.status_code == 500
    assert "Retry-After" not in response
    assert "Traceback" not in response.text


def test_an_internal_error_from_the_server_is_a_500_as_any_bug():
    """Only the driver's own complaint about the connection is a 503: the server's InternalError
    (here "current transaction is aborted", SQLSTATE 25P02: a query after a swallowed error) is the
    application's mistake, and repeating the request would not help."""
    from vardkontakt.core.views import database_unavailable

    aborted = psycopg.errors.lookup("25P02")("current transaction is aborted")
    assert not database_unavailable(_from_the_driver(aborted))
    assert database_unavailable(_from_the_driver(psycopg.InternalError("received 2 results from command 'BEGIN'")))
