// Starts the NHS.UK frontend components. Upstream marks <body> with an inline script, which our
// Content Security Policy forbids; this external module does the same job.
import { initAll } from "../build/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
