/* Small progressive enhancements; every page works without them. Kept in a static file so
   the Content-Security-Policy needs no 'unsafe-inline'. */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // A form's error summary (macros.html error_summary) takes the focus, so it is read first;
  // its links move the focus to the field itself, with the field's label in view.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) {
    summary.focus();
    summary.querySelectorAll("a[href^='#']").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var target = document.getElementById(link.getAttribute("href").slice(1));
        if (!target) { return; }
        event.preventDefault();
        var holder = target.closest(".field, fieldset") || target;
        holder.scrollIntoView({block: "start"});
        target.focus({preventScroll: true});
      });
    });
  }
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
