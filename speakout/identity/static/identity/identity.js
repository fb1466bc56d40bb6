/* Keeps the reply position across a login: when the discussion script has moved the reply form
   under a reply (without reloading), the "next" of the login, log-out and Change links and forms
   is pointed at that reply (?replyto=N#respond) just before the reader leaves. */
(function () {
  "use strict";
  function target(respond) {
    var parent = respond.querySelector("input[name=parent]");
    var path = window.location.pathname;
    return parent && parent.value ? path + "?replyto=" + encodeURIComponent(parent.value) + "#respond" : path + "#respond";
  }
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var respond = document.getElementById("respond");
    if (!respond || !form.hasAttribute("data-identity-return")) return;
    var next = form.querySelector("input[name=next]");
    if (next) next.value = target(respond);
  }, true);
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-identity-return]");
    var respond = document.getElementById("respond");
    if (!link || !respond) return;
    var url = new URL(link.href, window.location.href);
    url.searchParams.set("next", target(respond));
    link.href = url.toString();
  }, true);
})();
