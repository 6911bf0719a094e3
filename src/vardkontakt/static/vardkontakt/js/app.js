// Starts the NHS.UK frontend components. Upstream marks <body> with an inline script, which our
// Content Security Policy forbids; this external module does the same job.
import { initAll } from "../build/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();

// "Copy" buttons (data-copy-target: the id of the element whose text is copied). They are hidden
// until this runs, so a page without JavaScript offers the text to select instead.
for (const button of document.querySelectorAll("button[data-copy-target]")) {
  button.hidden = false;
  button.addEventListener("click", async () => {
    const source = document.getElementById(button.dataset.copyTarget);
    const status = document.getElementById(button.dataset.copyStatus);
    try {
      await navigator.clipboard.writeText(source.textContent.trim());
      if (status) status.textContent = button.dataset.copiedText;
    } catch {
      if (status) status.textContent = button.dataset.failedText;
    }
  });
}

// The residents' side installs as an app: its service worker keeps only the shell and static
// files (never a page), and shows push notifications. Staff pages name no worker.
const serviceWorker = document.querySelector('meta[name="vk-service-worker"]');
if (serviceWorker && "serviceWorker" in navigator) {
  navigator.serviceWorker.register(serviceWorker.content, { scope: "/" }).catch(() => {
    // Without a worker the site works as before: no app, no push.
  });
}
