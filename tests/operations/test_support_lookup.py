"""The support role's lookup: account state, logins, deliveries (masked), proxies and children; never
anything medical; every lookup audited; nobody else gets in."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from tests.operations.conftest import client_of
from vardkontakt.access.models import AuditEntry, Guardianship, Proxy, ProxyStatus
from vardkontakt.identity.models import Patient, User
from vardkontakt.identity.oidc import Refusal, Side
from vardkontakt.notifications import messages as outgoing
from vardkontakt.notifications.models import Delivery, DeliveryStatus, NotificationKind
from vardkontakt.notifications.services import notification_create
from vardkontakt.operations.models import LoginOutcome, LoginRecord, LoginSide
from vardkontakt.operations.selectors import mask_address, scrub_error
from vardkontakt.operations.services import login_record, login_refusal_record

pytestmark = pytest.mark.django_db

URL = "/staff/support/lookup/"
LOA3 = "http://id.elegnamnden.se/loa/1.0/loa3"
LOA2 = "http://id.elegnamnden.se/loa/1.0/loa2"
NOBODY = "19800101-0001"


def look_up(personas, number: str):
    return client_of(personas.support).post(URL, {"personnummer": number})


# --- the door ---------------------------------------------------------------------------------------


def test_only_the_support_role_gets_in(personas):
    assert client_of(personas.support).get(URL).status_code == 200
    for staff in (personas.nurse, personas.unit_admin, personas.region_admin, personas.archivist, personas.coordinator):
        assert client_of(staff).get(URL).status_code == 403
        assert client_of(staff).post(URL, {"personnummer": personas.tolvan.personnummer}).status_code == 403
    assert client_of(personas.tolvan).post(URL, {"personnummer": personas.tolvan.personnummer}).status_code == 403
    anonymous = client_of(None).get(URL)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/login/staff/")
    assert not AuditEntry.objects.filter(action="support.lookup").exists()


def test_the_support_role_finds_the_lookup_on_the_staff_home(personas):
    assert URL in client_of(personas.support).get("/staff/").text
    assert URL not in client_of(personas.nurse).get("/staff/").text


def test_the_number_never_goes_in_the_url(personas):
    assert client_of(personas.support).get(URL, {"personnummer": personas.tolvan.personnummer}).status_code == 200
    page = client_of(personas.support).get(URL, {"personnummer": personas.tolvan.personnummer}).text
    assert personas.tolvan.full_name not in page  # a GET only shows the form
    assert 'method="post"' in page


# --- what it finds ----------------------------------------------------------------------------------


def test_an_invalid_number_is_a_clear_error_and_looks_nothing_up(personas):
    response = look_up(personas, "19121212-1213")
    assert response.status_code == 200
    assert "nhsuk-error-summary" in response.text
    assert "No account" not in response.text
    assert not AuditEntry.objects.filter(action="support.lookup").exists()


def test_an_unknown_number_has_no_account_and_the_lookup_is_still_audited(personas):
    assert not Patient.objects.filter(personnummer=NOBODY.replace("-", "")).exists()
    response = look_up(personas, NOBODY)
    assert "No account: nobody with that personal identity number is known to the e-services." in response.text
    entry = AuditEntry.objects.get(action="support.lookup")
    assert (entry.actor_id, entry.patient_id, entry.detail) == (str(personas.support.pk), "", "no account")


def test_the_account_state_of_a_registered_person_and_the_audit_entry(personas):
    User.objects.get_or_create_for_patient(personas.tolvan)
    client_of(personas.tolvan)  # logs in: Django records last_login
    response = look_up(personas, "191212121212")
    body = response.text
    assert f"<h2>{personas.tolvan.full_name}, 19121212-1212</h2>" in body
    assert "Registered " in body
    assert "Never" not in body
    assert "Protected identity" not in body
    entry = AuditEntry.objects.get(action="support.lookup")
    assert entry.actor_kind == "staff"
    assert entry.actor_id == str(personas.support.pk)
    assert entry.patient_id == str(personas.tolvan.pk)
    assert entry.outcome == "allowed"
    assert entry.action_label == "looked up the account for support"


def test_a_person_who_never_logged_in_is_not_registered(personas):
    body = look_up(personas, personas.other_patient.personnummer).text
    assert "Not registered: has never logged in to the e-services" in body
    assert "No logins recorded." in body


def test_protected_identity_is_shown_as_yes_and_nothing_more(personas):
    body = look_up(personas, personas.protected_child.personnummer).text
    assert '<dt class="nhsuk-summary-list__key">Protected identity</dt>' in body
    assert '<dd class="nhsuk-summary-list__value">Yes</dd>' in body


def test_logins_and_refused_logins_as_the_callback_records_them(personas):
    tolvan = User.objects.get_or_create_for_patient(personas.tolvan)
    login_record(user=tolvan, acr=LOA3)
    login_refusal_record(side=Side.RESIDENT, subject="191212121212", reason=Refusal.ACR, acr=LOA2)
    login_record(user=User.objects.get_or_create_for_staff(personas.nurse), acr=LOA3)  # someone else's
    body = look_up(personas, "19121212-1212").text
    assert body.count('<td class="nhsuk-table__cell">e-ID</td>') == 2
    assert "Logged in" in body
    assert "Refused: the e-ID&#x27;s level of assurance was too low" in body
    assert '<td class="nhsuk-table__cell">3</td>' in body
    assert '<td class="nhsuk-table__cell">2</td>' in body
    assert "SITHS" not in body


def test_a_refusal_is_recorded_only_for_a_person_we_already_hold(personas):
    assert login_refusal_record(side=Side.RESIDENT, subject=NOBODY, reason=Refusal.ACR, acr=LOA2) is None
    assert login_refusal_record(side=Side.RESIDENT, subject="not a number", reason=Refusal.ACR) is None
    assert login_refusal_record(side=Side.STAFF, subject="SE000-nobody", reason=Refusal.ACR) is None
    assert not Patient.objects.filter(personnummer=NOBODY.replace("-", "")).exists()
    assert not LoginRecord.objects.exists()
    staff = login_refusal_record(side=Side.STAFF, subject=personas.nurse.hsa_id, reason=Refusal.ACR, acr=LOA2)
    assert staff is not None
    assert (staff.staff, staff.side, staff.outcome) == (personas.nurse, LoginSide.SITHS, LoginOutcome.REFUSED)


def test_deliveries_with_masked_addresses_and_no_message_content(personas):
    tolvan = personas.tolvan
    Patient.objects.filter(pk=tolvan.pk).update(
        mobile="+46701234567", email="tolvan@example.se", notify_by_sms=True, notify_by_email=True
    )
    tolvan.refresh_from_db()
    notification_create(recipient=tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:1")
    notification_create(recipient=tolvan, kind=NotificationKind.NEW_RESULT, cause="result:1")
    failed = Delivery.objects.get(notification__kind=NotificationKind.REPLY_WAITING, channel="email")
    failed.status = DeliveryStatus.FAILED
    failed.attempts = 3
    failed.last_error = "recipient refused: {'tolvan@example.se': (550, b'5.1.1 user unknown')}"
    failed.save()
    sent = Delivery.objects.get(notification__kind=NotificationKind.NEW_RESULT, channel="sms")
    sent.status = DeliveryStatus.SENT
    sent.attempts = 1
    sent.sent_at = timezone.now()
    sent.last_error = ""
    sent.save()
    Patient.objects.filter(pk=tolvan.pk).update(notify_by_email=False)  # no new ones by e-mail

    body = look_up(personas, tolvan.personnummer).text
    assert "You have a new message" in body  # the kind, in words
    assert "A new test result is in your record" in body
    assert "••••••67" in body
    assert "t•••@example.se" in body
    assert "+46701234567" not in body
    assert "701234567" not in body
    assert "tolvan@example.se" not in body
    assert "5.1.1 user unknown" in body  # the error itself stays readable
    assert "Gave up" in body
    assert "Text message to ••••••67" in body
    for kind in (NotificationKind.REPLY_WAITING, NotificationKind.NEW_RESULT):
        text = outgoing.render(kind, language="en")
        assert text.body not in body


def test_masking():
    assert mask_address("sms", "+46701234567") == "••••••67"
    assert mask_address("email", "tolvan@example.se") == "t•••@example.se"
    assert mask_address("email", "") == ""
    error = scrub_error(
        "gateway refused the message: invalid to +46 70-123 45 67", channel="sms", address="+46701234567"
    )
    assert "123" not in error
    assert error.endswith("••••••67")


def test_proxies_given_and_held_and_the_children_by_name_only(personas):
    tolvan, other = personas.tolvan, personas.other_patient
    Proxy.objects.create(
        principal=tolvan,
        agent=other,
        scope_cases=True,
        scope_bookings=True,
        status=ProxyStatus.ACTIVE,
        invited_at=timezone.now() - dt.timedelta(days=3),
        responded_at=timezone.now() - dt.timedelta(days=2),
        expires_on=timezone.localdate() + dt.timedelta(days=100),
        idempotency_key=uuid.uuid4().hex,
    )
    body = look_up(personas, tolvan.personnummer).text
    given = body.split("Who may act for the person")[1].split("Whom the person acts for")[0]
    assert other.full_name in given
    assert "Active" in given
    assert "messages and cases" in given
    assert "bookings" in given
    assert "read the record" not in given
    assert "Valid until" in given
    assert other.personnummer not in body
    assert other.personnummer_display not in body

    # Maria acts for Gunnel; Kent's proxy for Gunnel was revoked.
    maria = look_up(personas, personas.adult_proxy.personnummer).text
    held = maria.split("Whom the person acts for")[1]
    assert personas.principal.full_name in held
    gunnel = look_up(personas, personas.principal.personnummer).text
    given = gunnel.split("Who may act for the person")[1].split("Whom the person acts for")[0]
    assert personas.adult_proxy.full_name in given
    assert personas.revoked_proxy.full_name in given
    assert "Revoked" in given

    anna = look_up(personas, personas.guardian.personnummer).text
    children = anna.split("Guardian of")[1]
    assert personas.child_9.full_name in children
    assert personas.child_14.full_name in children
    for child in (personas.child_9, personas.child_14):
        assert child.personnummer not in anna
        assert child.personnummer_display not in anna
    assert Guardianship.objects.filter(guardian=personas.guardian).count() == 2


def test_the_lookup_page_in_few_queries(personas, django_assert_max_num_queries):
    client = client_of(personas.support)
    with django_assert_max_num_queries(20):
        assert client.post(URL, {"personnummer": personas.guardian.personnummer}).status_code == 200
