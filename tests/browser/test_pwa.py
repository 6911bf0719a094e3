"""The residents' side as an installable app: the manifest, the service worker, the offline page,
and what the worker keeps (the shell, never a page with someone's data)."""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  const active = registration.active;
  if (active.state !== "activated") {
    await new Promise((resolve) => active.addEventListener("statechange", () => active.state === "activated" && resolve()));
  }
  if (!navigator.serviceWorker.controller) {
    await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve));
  }
  return {state: registration.active.state, scope: registration.scope, script: registration.active.scriptURL};
}"""

# Every cache's keys and each kept answer's text, as the page itself can see them.
CACHE_CONTENTS = """async () => {
  const kept = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      kept.push({cache: name, url: request.url, text: await response.clone().text()});
    }
  }
  return kept;
}"""


def wait_for_worker(page: Page) -> dict[str, Any]:
    return page.evaluate(WORKER_READY)


def test_the_app_is_installable_under_the_strict_policy_and_works_offline(browser, site, personas):
    context = browser.new_context(locale="sv-SE")  # no CSP bypass: the policy must allow worker and manifest
    page = context.new_page()
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    page.goto(site + "/")
    manifest_url = page.eval_on_selector('link[rel="manifest"]', "link => link.href")
    assert manifest_url == site + "/manifest.webmanifest"

    worker = wait_for_worker(page)
    assert worker == {"state": "activated", "scope": site + "/", "script": site + "/service-worker.js"}

    # Chromium's own reading of the manifest: no parse errors, and nothing stops installing the app.
    cdp = context.new_cdp_session(page)
    app_manifest = cdp.send("Page.getAppManifest")
    assert app_manifest["errors"] == [], app_manifest["errors"]
    installability = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [error["errorId"] for error in installability if error["errorId"] != "in-incognito"] == []

    manifest = page.evaluate("async (url) => (await fetch(url)).json()", manifest_url)
    assert manifest["name"] == "Vårdkontakt"
    assert manifest["short_name"] == "Vårdkontakt"
    assert manifest["start_url"] == "/home/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    theme = page.eval_on_selector('meta[name="theme-color"]', "meta => meta.content")
    assert manifest["theme_color"] == theme == "#0b5560"
    sizes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert sizes == {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")}
    for icon in manifest["icons"]:
        drawn = page.evaluate(
            """async (src) => { const image = new Image(); image.src = src; await image.decode();
                return `${image.naturalWidth}x${image.naturalHeight}`; }""",
            icon["src"],
        )
        assert drawn == icon["sizes"], icon

    # Without a network, a page (even one never visited) is the offline page, in both languages.
    context.set_offline(True)
    page.goto(site + "/patient/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ingen anslutning")
    expect(page.get_by_role("heading", level=2)).to_have_text("No connection")
    expect(page.get_by_text("ring 112")).to_be_visible()
    # Its styles come from the worker's cache too.
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('header')).backgroundColor") == "rgb(11, 85, 96)"
    )
    context.set_offline(False)
    page.goto(site + "/")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Ingen anslutning")
    assert refused == []
    context.close()


def test_a_logged_in_page_never_enters_the_cache(ui, personas):
    ui.login("19121212-1212")
    expect(ui.page).to_have_url(re.compile(r"/patient/$"))
    wait_for_worker(ui.page)
    # Visited while the worker controls the page: the start page, the bookings, the settings.
    for path in ("/patient/", "/bookings/", "/settings/"):
        ui.goto(path)
        expect(ui.page.get_by_text("Tolvan").first).to_be_visible()
    kept = ui.page.evaluate(CACHE_CONTENTS)
    urls = {entry["url"].removeprefix(ui.base) for entry in kept}
    assert "/offline/" in urls
    assert "/static/vardkontakt/build/main.css" in urls
    assert all(url == "/offline/" or url.startswith("/static/") for url in urls), urls
    for entry in kept:
        assert "Tolvan" not in entry["text"], entry["url"]
        assert "19121212" not in entry["text"], entry["url"]
    # Offline, the pages just visited are not there to be shown: only the offline page is.
    ui.page.context.set_offline(True)
    ui.page.goto(ui.base + "/bookings/")
    ui.check()
    expect(ui.page.get_by_role("heading", level=1)).to_have_text("Ingen anslutning")
    expect(ui.page.get_by_text("Tolvan")).to_have_count(0)
    ui.page.context.set_offline(False)


def test_the_push_page_posts_the_subscription_as_push_manager_gives_it(ui, personas):
    """Chromium's push service is FCM, out of reach here: PushManager.subscribe() is replaced by one
    that answers as Chromium's does, and what the page sends us is checked."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from vardkontakt.notifications import webpush
    from vardkontakt.notifications.models import PushSubscription

    browser_key = ec.generate_private_key(ec.SECP256R1()).public_key()
    raw = browser_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    endpoint = "https://fcm.googleapis.com/fcm/send/dGVzdC1kZXZpY2U:APA91bFake"
    keys = {"p256dh": webpush.b64url_encode(raw), "auth": webpush.b64url_encode(b"0123456789abcdef")}
    given: dict[str, Any] = {"endpoint": endpoint, "expirationTime": None, "keys": keys}
    ui.page.context.grant_permissions(["notifications"], origin=ui.base)
    ui.page.context.add_init_script(
        "const given = "
        + json.dumps(given)
        + """;
        (() => {
          PushManager.prototype.getSubscription = async () => null;
          PushManager.prototype.subscribe = async function (options) {
            const key = new Uint8Array(options.applicationServerKey);
            sessionStorage.setItem("subscribedWith", JSON.stringify({
              userVisibleOnly: options.userVisibleOnly, key: btoa(String.fromCharCode(...key)),
            }));
            return {endpoint: given.endpoint, expirationTime: null, options, toJSON: () => given};
          };
        })();"""
    )
    ui.login("19121212-1212")
    ui.goto("/settings/")
    ui.click("Push-notiser i din telefon eller dator", role="link")
    expect(ui.page.get_by_text("Push-notiser är inte påslagna för någon enhet.")).to_be_visible()
    for _ in range(2):  # the browser subscribes twice: one device
        with ui.page.expect_request(lambda r: r.url.endswith("/settings/push/subscriptions/")) as sent:
            ui.click("Slå på för den här enheten")
        request = sent.value
        assert request.method == "POST"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["x-csrftoken"]
        assert json.loads(request.post_data or "") == given
    expect(ui.page.get_by_role("table")).to_contain_text("Chrome · Linux")
    subscribed_with = json.loads(ui.page.evaluate("() => sessionStorage.getItem('subscribedWith')"))
    key = webpush.vapid_private_key()
    assert key is not None
    assert subscribed_with == {
        "userVisibleOnly": True,
        "key": base64.b64encode(webpush.public_key_bytes(key)).decode(),
    }
    device = PushSubscription.objects.get()
    assert (device.patient, device.endpoint, device.p256dh, device.auth) == (
        personas.tolvan,
        endpoint,
        keys["p256dh"],
        keys["auth"],
    )
    # Turned off again from the same page.
    ui.click("Stäng av enheten som slogs på " + ui.page.get_by_role("cell").nth(1).inner_text())
    expect(ui.page.get_by_text("Push-notiser är avstängda för den enheten.")).to_be_visible()
    assert not PushSubscription.objects.exists()


def test_a_push_message_is_shown_as_a_notification_with_the_neutral_text(browser, site, personas, settings):
    """End to end but for FCM: a notice is encrypted and sent to the push service on loopback, which
    decrypts it as the browser would; Chromium's DevTools then hand that message to the service
    worker (as its push service would), and the worker shows it."""
    from tests.notifications.push_service import running_push_service
    from vardkontakt.notifications import messages, webpush
    from vardkontakt.notifications.delivery import delivery_attempt
    from vardkontakt.notifications.models import Delivery, NotificationKind
    from vardkontakt.notifications.services import notification_create, push_subscription_save

    settings.WEB_PUSH_ALLOW_HTTP, settings.WEB_PUSH_SERVICE_HOSTS = True, ["127.0.0.1"]
    key = webpush.vapid_private_key()
    assert key is not None
    with running_push_service() as push_service:
        device = push_service.subscribe(webpush.public_key_bytes(key))
        push_subscription_save(
            patient=personas.tolvan, endpoint=device.endpoint, p256dh=device.p256dh, auth=device.auth, label=""
        )
        notification_create(recipient=personas.tolvan, kind=NotificationKind.REPLY_WAITING, cause="case:browser")
        assert delivery_attempt(str(Delivery.objects.get(channel="push").id)) == "sent"
        (arrival,) = push_service.received

    context = browser.new_context(locale="sv-SE")
    context.grant_permissions(["notifications"], origin=site)
    page = context.new_page()
    page.goto(site + "/")
    wait_for_worker(page)
    cdp = context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: registrations.extend(event["registrations"]))
    cdp.send("ServiceWorker.enable")
    for _ in range(300):  # the registration's event arrives shortly after enabling (longer when the machine is busy)
        if registrations:
            break
        page.wait_for_timeout(100)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": site + "/",
            "registrationId": registrations[0]["registrationId"],
            "data": json.dumps(arrival.payload, ensure_ascii=False),
        },
    )
    shown = page.evaluate(
        """async () => {
          const registration = await navigator.serviceWorker.ready;
          // Waits up to 30 s: the worker may have to be started for the push event, and under the whole
          // suite's load that took over 5 s once (CI, stop 26). Only the text is asserted, never the time.
          for (let i = 0; i < 300; i++) {
            const notifications = await registration.getNotifications();
            if (notifications.length) return notifications.map((n) => ({title: n.title, body: n.body, data: n.data}));
            await new Promise((resolve) => setTimeout(resolve, 100));
          }
          return [];
        }"""
    )
    text = messages.render(NotificationKind.REPLY_WAITING, language="sv")
    assert shown == [{"title": text.subject, "body": text.body, "data": {"url": site + "/home/"}}]
    context.close()
