/* Starts the proof-of-work check (templates/booking/_human_check.html) with the vendored
   ALTCHA widget's external build: its workers are served from static/ (no inline script,
   no blob: worker), which the Content-Security-Policy allows. The widget solves by itself,
   so a phone user only waits a moment. */
const script = document.querySelector("script[data-workers]");  // modules have no currentScript
const workers = script.dataset.workers;
const pbkdf2 = () => new Worker(workers + "pbkdf2.js");
const sha = () => new Worker(workers + "sha.js");
["PBKDF2/SHA-256", "PBKDF2/SHA-384", "PBKDF2/SHA-512"].forEach((name) => {
  globalThis.$altcha.algorithms.set(name, pbkdf2);
});
["SHA-256", "SHA-384", "SHA-512"].forEach((name) => {
  globalThis.$altcha.algorithms.set(name, sha);
});
document.querySelectorAll("[data-needs-script]").forEach((note) => { note.hidden = true; });
customElements.whenDefined("altcha-widget").then(() => {
  document.querySelectorAll("altcha-widget[data-human-check]").forEach((widget) => {
    widget.verify();
  });
});
