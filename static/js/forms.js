/* Forms that keep what was typed. Kept in a static file so the Content-Security-Policy
   needs no 'unsafe-inline'; every form still works without it.

   - An error summary (macros.html error_summary) takes focus when the page loads, and its
     links move focus to the field they name.
   - A page shown again after a refused change sits at the change's POST address; a
     <link rel="canonical" data-replace-state> puts the page's own address back, so a reload
     shows the page instead of posting again.
   - Switching language on a page with a form[data-keep-draft] keeps the values: they are put
     in sessionStorage (this tab only, never sent to the server) just before the switch, put
     back into the same form on the page in the other language, and removed at once. */
(function () {
  "use strict";
  var PREFIX = "form-draft:";

  function draftKey(form, index) {
    return PREFIX + (form.getAttribute("action") || window.location.pathname) + "#" + index;
  }

  function keptControls(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled) { return false; }
      var type = (el.type || "").toLowerCase();
      return ["file", "password", "hidden", "submit", "button", "reset"].indexOf(type) < 0;
    });
  }

  function saveDrafts() {
    document.querySelectorAll("form[data-keep-draft]").forEach(function (form, index) {
      var values = keptControls(form).map(function (el) {
        return {n: el.name, v: el.value, c: el.checked === true};
      });
      try {
        window.sessionStorage.setItem(draftKey(form, index), JSON.stringify(values));
      } catch (ignored) { /* storage off or full: the switch still works, without the draft */ }
    });
  }

  function restoreDrafts() {
    var storage;
    try { storage = window.sessionStorage; } catch (ignored) { return; }
    document.querySelectorAll("form[data-keep-draft]").forEach(function (form, index) {
      var key = draftKey(form, index);
      var saved = storage.getItem(key);
      if (!saved) { return; }
      var values;
      try { values = JSON.parse(saved); } catch (ignored) { values = []; }
      var seen = {};
      keptControls(form).forEach(function (el) {
        var nth = seen[el.name] = (seen[el.name] || 0) + 1;
        var match = values.filter(function (v) { return v.n === el.name; })[nth - 1];
        if (el.type === "radio") {
          match = values.filter(function (v) { return v.n === el.name && v.v === el.value; })[0];
          if (match) { el.checked = match.c; }
        } else if (el.type === "checkbox") {
          if (match) { el.checked = match.c; }
        } else if (match) {
          el.value = match.v;
        }
      });
    });
    // Nothing typed stays behind in the tab: drafts live only across one language switch.
    for (var i = storage.length - 1; i >= 0; i -= 1) {
      var name = storage.key(i);
      if (name && name.indexOf(PREFIX) === 0) { storage.removeItem(name); }
    }
  }

  restoreDrafts();
  document.querySelectorAll(".lang-switch a").forEach(function (link) {
    link.addEventListener("click", saveDrafts);
  });

  var canonical = document.querySelector("link[rel=canonical][data-replace-state]");
  if (canonical && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", canonical.getAttribute("href"));
  }
  // The error summary takes the focus in site.js (one handler for every form).
})();
