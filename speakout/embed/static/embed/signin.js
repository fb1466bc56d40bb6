// Hand the sign-in token to the page that opened this window, on its (allow-listed) origin only.
(function () {
  var box = document.getElementById("speakout-signin");
  if (!box || !window.opener) return;
  window.opener.postMessage(
    { speakout: "signin", token: box.dataset.token, name: box.dataset.name },
    box.dataset.origin
  );
  window.close();
})();
