/* A page from the shared cache is the same bytes for every reader, so its forms carry fill
   markers instead of the reader's own time-trap token and submission id (docs/caching.md). When
   the reader first touches such a form, this asks the site for fresh values and puts them in; a
   form sent before they arrive waits for them. Without this script the form is sent with the
   markers, which the site reads as "not known": it still goes through in one press. */
(function () {
  "use strict";
  var PREFIX = "fill:";
  var script = document.currentScript;
  var url = (script && script.getAttribute("data-fill-url")) || "/pagecache/fill";
  var pending = null;

  function marked(root) {
    return Array.prototype.filter.call(root.querySelectorAll("input[type=hidden]"), function (input) {
      return input.value.indexOf(PREFIX) === 0;
    });
  }

  function fillAll() {
    if (pending) return pending;
    var inputs = marked(document);
    var markers = [];
    inputs.forEach(function (input) {
      if (markers.indexOf(input.value) < 0) markers.push(input.value);
    });
    if (!markers.length) return Promise.resolve();
    var query = markers.map(function (value) { return "m=" + encodeURIComponent(value); }).join("&");
    pending = fetch(url + "?" + query, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("fill " + response.status);
        return response.json();
      })
      .then(function (data) {
        inputs.forEach(function (input) {
          var index = markers.indexOf(input.value);
          if (index >= 0 && typeof data.values[index] === "string") input.value = data.values[index];
        });
        pending = null;
      })
      .catch(function () {
        pending = null; // try again on the next touch; a form sent as it is still goes through
      });
    return pending;
  }

  function formOf(target) {
    return target && (target.form || (target.closest && target.closest("form")));
  }

  document.addEventListener("focusin", function (event) {
    var form = formOf(event.target);
    if (form && marked(form).length) fillAll();
  }, true);

  // Capture phase on the document: runs before the form's own handlers (the discussion
  // script's), which then see the filled form when it is submitted again.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!marked(form).length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter && event.submitter.form === form ? event.submitter : null;
    fillAll().then(function () {
      if (marked(form).length || !form.requestSubmit) {
        form.submit(); // could not fill: send it with the markers, which the site accepts
      } else if (submitter) {
        form.requestSubmit(submitter);
      } else {
        form.requestSubmit();
      }
    });
  }, true);
})();
