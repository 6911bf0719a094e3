// A payment under way: look again every few seconds until the provider has answered (the page
// itself asks the provider when the answer is late). Without JavaScript, "Update now" does the same.
const WAIT_MS = 3000;
window.setTimeout(() => window.location.reload(), WAIT_MS);
