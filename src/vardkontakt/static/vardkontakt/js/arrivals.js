// The appointment book, live: every 10 seconds it asks which of the day's bookings have arrived
// (booking ids and times only) and shows "Anländ 08:42" on them without a reload. A booking that
// has arrived can no longer be marked missed, so its button goes.
const source = document.querySelector("[data-arrivals-url]");

async function refresh() {
  try {
    const response = await fetch(source.dataset.arrivalsUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const { arrivals } = await response.json();
    for (const [bookingId, time] of Object.entries(arrivals)) {
      const tag = document.querySelector(`[data-arrival-of="${bookingId}"]`);
      if (!tag) continue;
      tag.querySelector("[data-arrival-time]").textContent = time;
      tag.hidden = false;
      document.querySelector(`[data-missed-of="${bookingId}"]`)?.remove();
    }
  } catch {
    // Offline for a moment: the next round tries again.
  }
}

if (source) setInterval(refresh, 10000);
