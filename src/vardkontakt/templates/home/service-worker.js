{% autoescape off %}// Vårdkontakt's service worker (served by home/pwa.py from the site's root, for the whole site).
//
// It keeps only the shell: the offline page and static files. Every page is fetched from the
// network; the offline page is shown only when that fails. Pages, answers to forms, anything with
// "Cache-Control: no-store" or "private" never enter the cache: a phone that someone else picks
// up shows nobody's data. It also shows push notifications (their text is the same neutral text
// as a text message).
"use strict";

const VERSION = "{{ version }}";
const CACHE = "vk-shell-" + VERSION;
const OFFLINE_URL = "{{ offline_url }}";
const STATIC_URL = "{{ static_url }}";
const SHELL = {{ shell }};

// Only a plain successful same-origin answer that allows storing may be kept.
function storable(response) {
  if (!response || !response.ok || response.type !== "basic") return false;
  const control = (response.headers.get("Cache-Control") || "").toLowerCase();
  return !control.includes("no-store") && !control.includes("private");
}

async function keep(cache, url) {
  // Without the session cookie: what is kept must be the same for everyone.
  const response = await fetch(url, { cache: "reload", credentials: "omit" });
  if (!storable(response)) throw new Error("not storable: " + url);
  await cache.put(url, response);
}

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all(SHELL.map((url) => keep(cache, url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

async function staticFile(request) {
  const cache = await caches.open(CACHE);
  const kept = await cache.match(request);
  if (kept) return kept;
  const response = await fetch(request);
  if (storable(response)) await cache.put(request, response.clone());
  return response;
}

async function page(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL);
    if (offline) return offline;
    throw error;
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(page(request));
  } else if (url.pathname.startsWith(STATIC_URL)) {
    event.respondWith(staticFile(request));
  }
  // Anything else (htmx fragments, downloads, JSON) goes to the network untouched.
});

self.addEventListener("push", (event) => {
  let notice = {};
  try {
    notice = event.data ? event.data.json() : {};
  } catch (error) {
    notice = {};
  }
  const title = notice.title || "Vårdkontakt";
  event.waitUntil(
    self.registration.showNotification(title, {
      body: notice.body || "",
      icon: notice.icon || undefined,
      tag: notice.tag || undefined,
      data: { url: notice.url || "/" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // Only a page of this site is opened, whatever the message says.
  const target = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  const url = target.origin === self.location.origin ? target.href : self.location.origin + "/";
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const client of windows) {
        if (client.url === url && "focus" in client) return client.focus();
      }
      return self.clients.openWindow(url);
    }),
  );
});
{% endautoescape %}
