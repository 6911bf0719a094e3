// Turning push notifications on for this device: the browser subscribes at its push service with
// our VAPID public key, and the page sends us what PushSubscription.toJSON() gives (the endpoint
// and the keys the notices are encrypted to).
const form = document.getElementById("push-subscribe");

function keyBytes(base64url) {
  const base64 = base64url.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (base64url.length % 4)) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

if (form) {
  const button = form.querySelector("button");
  const status = document.getElementById("push-status");
  const note = form.querySelector(".vk-push-needs-script");
  if (note) note.hidden = true;
  if ("serviceWorker" in navigator && "PushManager" in window && "Notification" in window) {
    button.hidden = false;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      try {
        if ((await Notification.requestPermission()) !== "granted") throw new Error("permission");
        const registration = await navigator.serviceWorker.ready;
        const subscription =
          (await registration.pushManager.getSubscription()) ||
          (await registration.pushManager.subscribe({
            userVisibleOnly: true,
            applicationServerKey: keyBytes(form.dataset.publicKey),
          }));
        const response = await fetch(form.action, {
          method: "POST",
          credentials: "same-origin",
          headers: {
            "Content-Type": "application/json",
            "X-CSRFToken": form.querySelector("input[name=csrfmiddlewaretoken]").value,
          },
          body: JSON.stringify(subscription.toJSON()),
        });
        if (!response.ok) {
          const answer = await response.json().catch(() => ({}));
          status.textContent = answer.error || form.dataset.failedText;
          button.disabled = false;
          return;
        }
        window.location.reload();
      } catch (error) {
        status.textContent = form.dataset.failedText;
        button.disabled = false;
      }
    });
  } else {
    status.textContent = form.dataset.unsupportedText;
  }
}
