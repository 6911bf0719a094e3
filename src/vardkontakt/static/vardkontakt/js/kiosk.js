// The kiosk resets itself: after a while without a touch (data-idle-seconds) a page with a person
// on it sends its "Done" form, which ends their visit on the server (which ends it anyway after a
// few minutes) and shows the start again. The start page waits for a mobile BankID login begun with
// its QR code and, when the phone has finished it, goes on to the person's appointments.
const body = document.body;
const idleSeconds = Number(body.dataset.idleSeconds || 60);
const resetForm = document.getElementById("vk-kiosk-reset");
let idleTimer;

function armIdle() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    if (resetForm) resetForm.submit();
    else window.location.reload(); // the start page: a fresh QR code, and nothing typed left
  }, idleSeconds * 1000);
}

for (const event of ["pointerdown", "keydown", "touchstart"]) {
  document.addEventListener(event, armIdle, { passive: true });
}
armIdle();

const poll = document.querySelector("[data-bankid-poll]");
if (poll) {
  const timer = setInterval(async () => {
    try {
      const response = await fetch(poll.dataset.bankidPoll, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) return;
      const answer = await response.json();
      if (answer.done) {
        clearInterval(timer);
        window.location.assign(answer.next);
      }
    } catch {
      // The next round tries again.
    }
  }, 2000);
}
