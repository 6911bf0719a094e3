"""Web Push as a notification channel: notices reach a real push service on loopback (which checks
the VAPID header and decrypts the payload as the browser would), expired devices are forgotten,
a busy service is retried, a wrong key fails clearly, and a device is one row however often it
subscribes."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
import requests
import time_machine
from django.db import connection
from django.test import Client

from tests.helpers import login_as
from tests.notifications.push_service import PushService
from vardkontakt.identity.models import Patient, User
from vardkontakt.notifications import messages, webpush
from vardkontakt.notifications.delivery import BACKOFF, delivery_attempt
from vardkontakt.notifications.models import Delivery, DeliveryStatus, NotificationKind, PushSubscription
from vardkontakt.notifications.services import notification_create, push_subscription_save

pytestmark = pytest.mark.django_db


def our_public_key() -> bytes:
    key = webpush.vapid_private_key()
    assert key is not None
    return webpush.public_key_bytes(key)


def subscribed(
    patient: Patient, push_service: PushService, *, key: bytes | None = None, label: str = "Firefox · Android"
) -> PushSubscription:
    """A device of ``patient``'s, subscribed at the push service with our key (or ``key``)."""
    device = push_service.subscribe(key or our_public_key())
    return push_subscription_save(
        patient=patient, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, label=label
    )


def push_delivery(patient: Patient, cause: str) -> Delivery:
    notification_create(recipient=patient, kind=NotificationKind.REPLY_WAITING, cause=cause)
    return Delivery.objects.get(notification__recipient=patient, notification__cause=cause, channel="push")


def test_a_notice_reaches_the_device_decrypted_with_the_same_neutral_text_as_an_sms(personas, push_service):
    tolvan = personas.tolvan
    subscribed(tolvan, push_service)
    delivery = push_delivery(tolvan, "case:p1")
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert len(push_service.received) == 1
    arrival = push_service.received[0]
    sms_text = messages.render(NotificationKind.REPLY_WAITING, language="sv")
    assert arrival.payload["title"] == sms_text.subject
    assert arrival.payload["body"] == sms_text.body
    assert arrival.payload["url"].endswith("/home/")
    for private in (tolvan.given_name, tolvan.family_name, tolvan.personnummer, "Lindängen"):
        assert private not in json.dumps(arrival.payload, ensure_ascii=False)
    # The push service carried ciphertext only, and was told who sends (VAPID).
    assert sms_text.body.encode() not in arrival.raw and b"Logga in" not in arrival.raw
    assert arrival.headers["Content-Encoding"] == "aes128gcm"
    assert arrival.claims["aud"] == push_service.url
    assert arrival.claims["sub"].startswith("mailto:")
    delivery.refresh_from_db()
    assert delivery.provider_id.startswith("/message/")
    # Sent once: trying again sends nothing more.
    assert delivery_attempt(str(delivery.id)) is None
    assert len(push_service.received) == 1


def test_each_of_a_residents_devices_gets_the_notice_once(personas, push_service):
    phone, laptop = subscribed(personas.tolvan, push_service), subscribed(personas.tolvan, push_service)
    notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:p2")
    notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:p2")  # again
    deliveries = Delivery.objects.filter(channel="push")
    assert sorted(d.address for d in deliveries) == sorted([str(phone.id), str(laptop.id)])
    for delivery in deliveries:
        assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
    assert sorted(a.device.endpoint for a in push_service.received) == sorted([phone.endpoint, laptop.endpoint])


@pytest.mark.parametrize("answer", [410, 404])
def test_an_expired_subscription_is_removed_on_the_push_services_answer(personas, push_service, answer):
    device = subscribed(personas.tolvan, push_service)
    if answer == 410:
        push_service.devices[device.endpoint.rsplit("/", 1)[1]].gone = True  # expired at the push service
    else:
        push_service.devices.clear()  # unknown to it
    delivery = push_delivery(personas.tolvan, "case:p3")
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert f"answered {answer}" in delivery.last_error and "expired" in delivery.last_error
    assert not PushSubscription.objects.filter(pk=device.pk).exists()
    # The next notice has no device to go to.
    notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:p4")
    assert not Delivery.objects.filter(notification__cause="case:p4", channel="push").exists()


@pytest.mark.parametrize("answer", [429, 503])
def test_a_busy_push_service_is_retried_with_back_off_and_the_notice_sent_once(personas, push_service, answer):
    subscribed(personas.tolvan, push_service)
    start = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        delivery = push_delivery(personas.tolvan, "case:p5")
        push_service.answer = answer
        assert delivery_attempt(str(delivery.id)) == DeliveryStatus.PENDING
        delivery.refresh_from_db()
        assert delivery.next_attempt_at == start + BACKOFF[0]
        assert str(answer) in delivery.last_error
        assert delivery_attempt(str(delivery.id)) is None  # not due yet: nothing is tried early
        push_service.answer = None
        traveller.shift(BACKOFF[0])
        assert delivery_attempt(str(delivery.id)) == DeliveryStatus.SENT
        assert delivery_attempt(str(delivery.id)) is None
    assert len(push_service.received) == 1
    assert PushSubscription.objects.filter(patient=personas.tolvan).count() == 1  # busy is not gone


def test_a_wrong_vapid_key_is_refused_by_the_push_service_and_the_notice_fails_clearly(personas, push_service):
    other_key = webpush.public_key_bytes(webpush.new_private_key())
    device = subscribed(personas.tolvan, push_service, key=other_key)  # subscribed with a key not ours
    delivery = push_delivery(personas.tolvan, "case:p6")
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.FAILED
    delivery.refresh_from_db()
    assert "refused our VAPID key (403)" in delivery.last_error
    assert push_service.refused == [(403, "k is not the key the subscription was made with")]
    assert push_service.received == []
    assert PushSubscription.objects.filter(pk=device.pk).exists()  # the resident turns it on again


def test_a_refused_authorization_is_retried_and_says_why(personas, push_service):
    subscribed(personas.tolvan, push_service)
    push_service.clock_offset = 2 * 24 * 3600  # its clock two days ahead: our JWT looks expired
    delivery = push_delivery(personas.tolvan, "case:p7")
    assert delivery_attempt(str(delivery.id)) == DeliveryStatus.PENDING
    delivery.refresh_from_db()
    assert "refused our VAPID authorization (401)" in delivery.last_error
    assert "exp" in delivery.last_error
    assert push_service.received == []


def test_the_push_service_checks_the_vapid_header_itself(personas, push_service):
    """The local push service refuses what a real one refuses (so the tests above can fail)."""
    key = webpush.vapid_private_key()
    assert key is not None
    device = push_service.subscribe(our_public_key())
    body = webpush.encrypt(b"{}", browser_key=webpush.b64url_decode(device.p256dh), auth_secret=device.auth_secret)

    def post(authorization: str | None, **headers: str) -> int:
        sent = {"Content-Encoding": "aes128gcm", "TTL": "60", **headers}
        if authorization is not None:
            sent["Authorization"] = authorization
        return requests.post(device.endpoint, data=body, headers=sent, timeout=5).status_code

    import time

    now = time.time()
    good = webpush.vapid_authorization(endpoint=device.endpoint, key=key, subject="mailto:a@example.se", now=now)
    assert post(good) == 201
    assert post(None) == 401
    assert (
        post(webpush.vapid_authorization(endpoint="http://127.0.0.1:1/x", key=key, subject="mailto:a@b.se", now=now))
        == 401
    )
    assert post(webpush.vapid_authorization(endpoint=device.endpoint, key=key, subject="a@example.se", now=now)) == 401
    assert (
        post(webpush.vapid_authorization(endpoint=device.endpoint, key=key, subject="mailto:a@b.se", now=now + 86400))
        == 401
    )
    forged = good.replace("t=", "t=x", 1)
    assert post(forged) == 401
    assert post(good, **{"Content-Encoding": "aesgcm"}) == 415
    # Encrypted to another browser's key: the push service's browser cannot read it.
    stranger = push_service.subscribe(our_public_key())
    other = webpush.encrypt(b"{}", browser_key=webpush.b64url_decode(stranger.p256dh), auth_secret=stranger.auth_secret)
    assert (
        requests.post(
            device.endpoint,
            data=other,
            headers={"Content-Encoding": "aes128gcm", "TTL": "60", "Authorization": good},
            timeout=5,
        ).status_code
        == 400
    )


# --- the resident's devices (the page's endpoints) ------------------------------------------------


def client_of(patient: Patient) -> Client:
    return login_as(Client(), User.objects.get_or_create_for_patient(patient))


def post_subscription(client: Client, subscription: dict) -> tuple[int, dict]:
    response = client.post(
        "/settings/push/subscriptions/",
        data=json.dumps(subscription),
        content_type="application/json",
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"},
    )
    return response.status_code, response.json()


def test_a_device_is_one_row_however_often_the_browser_subscribes(personas, push_service):
    device = push_service.subscribe(our_public_key())
    client = client_of(personas.tolvan)
    first = post_subscription(client, device.as_json())
    again = post_subscription(client, device.as_json())
    assert first[0] == again[0] == 201
    assert first[1]["id"] == again[1]["id"]
    row = PushSubscription.objects.get()
    assert (row.patient, row.endpoint, row.p256dh, row.auth, row.label) == (
        personas.tolvan,
        device.endpoint,
        device.p256dh,
        device.auth,
        "Chrome · Linux",
    )
    page = client.get("/settings/push/")
    assert "Chrome · Linux" in page.text


def test_a_shared_device_belongs_to_whoever_subscribed_last(personas, push_service):
    device = push_service.subscribe(our_public_key())
    post_subscription(client_of(personas.tolvan), device.as_json())
    waiting = push_delivery(personas.tolvan, "case:p8")
    post_subscription(client_of(personas.other_patient), device.as_json())
    assert list(PushSubscription.objects.values_list("patient", flat=True)) == [personas.other_patient.pk]
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.WITHDRAWN  # Tolvan's notice does not go to the other's device


def test_a_resident_removes_their_own_device_and_nobody_elses(personas, push_service):
    mine = subscribed(personas.tolvan, push_service)
    theirs = subscribed(personas.other_patient, push_service, label="Chrome · Windows")
    waiting = push_delivery(personas.tolvan, "case:p9")
    client = client_of(personas.tolvan)
    assert client.post(f"/settings/push/{theirs.id}/remove/").status_code == 404
    assert PushSubscription.objects.filter(pk=theirs.pk).exists()
    listed = client.get("/settings/push/").text
    assert "Firefox · Android" in listed
    assert "Chrome · Windows" not in listed  # only her own devices are listed
    response = client.post(f"/settings/push/{mine.id}/remove/", follow=True)
    assert "Push-notiser är avstängda för den enheten." in response.text
    assert not PushSubscription.objects.filter(pk=mine.pk).exists()
    waiting.refresh_from_db()
    assert waiting.status == DeliveryStatus.WITHDRAWN
    assert delivery_attempt(str(waiting.id)) is None
    assert push_service.received == []


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: {**s, "endpoint": "http://10.0.0.5/push/x"}, "Den här webbläsarens push-tjänst"),
        (
            lambda s: {**s, "endpoint": "https://fcm.googleapis.com.evil.example/push/x"},
            "Den här webbläsarens push-tjänst",
        ),
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "AAAA"}}, "Webbläsarens nyckel är inte giltig."),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "c2hvcnQ"}}, "Webbläsarens nyckel är inte giltig."),
        (lambda s: {"endpoint": s["endpoint"]}, "Webbläsaren skickade ingen prenumeration."),
    ],
)
def test_a_bad_subscription_is_refused_with_a_clear_error_and_nothing_stored(personas, push_service, change, error):
    device = push_service.subscribe(our_public_key())
    status, answer = post_subscription(client_of(personas.tolvan), change(device.as_json()))
    assert status == 400
    assert answer["error"].startswith(error)
    assert not PushSubscription.objects.exists()


def test_not_json_is_refused(personas, push_service):
    client = client_of(personas.tolvan)
    response = client.post("/settings/push/subscriptions/", data="endpoint=x", content_type="text/plain")
    assert response.status_code == 400
    assert not PushSubscription.objects.exists()


def test_the_page_gives_the_browser_our_public_key(personas, push_service):
    page = client_of(personas.tolvan).get("/settings/push/")
    assert f'data-public-key="{webpush.b64url_encode(our_public_key())}"' in page.text


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent requests: the PostgreSQL case")
def test_a_double_subscription_at_the_same_moment_is_one_row(personas, push_service):
    device = push_service.subscribe(our_public_key())
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def subscribe() -> None:
        try:
            barrier.wait()
            push_subscription_save(
                patient=personas.tolvan, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, label=""
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=subscribe) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert PushSubscription.objects.filter(endpoint=device.endpoint).count() == 1


def test_without_a_vapid_key_push_is_neither_offered_nor_queued(personas, push_service, settings):
    device = subscribed(personas.tolvan, push_service)
    settings.PRODUCTION, settings.WEB_PUSH_VAPID_PRIVATE_KEY = True, ""  # production, no key configured
    notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:p10")
    assert not Delivery.objects.filter(channel="push").exists()
    client = client_of(personas.tolvan)
    assert "Push-notiser erbjuds inte här." in client.get("/settings/push/").text
    status, answer = post_subscription(client, push_service.subscribe(b"\x04" + bytes(64)).as_json())
    assert (status, answer["error"]) == (400, "Push-notiser erbjuds inte här.")
    assert list(PushSubscription.objects.all()) == [device]


def test_turning_push_on_needs_a_recent_login(personas, push_service):
    from vardkontakt.identity.middleware import AUTHENTICATED_AT

    client = client_of(personas.tolvan)
    session = client.session
    session[AUTHENTICATED_AT] = int(session[AUTHENTICATED_AT]) - 3600  # logged in an hour ago
    session.save()
    page = client.get("/settings/push/")
    assert "Slå på för den här enheten" not in page.text  # the page asks for a fresh login first
    status, answer = post_subscription(client, push_service.subscribe(our_public_key()).as_json())
    assert (status, answer["error"]) == (401, "Logga in igen för att slå på push-notiser: ladda om sidan.")
    assert not PushSubscription.objects.exists()
