/* Small progressive enhancements; every page works without JavaScript. */
(function () {
  "use strict";

  // A second click on a submit button must not send the same action twice
  // (two "accept" POSTs, two logouts): disable the form's buttons once it is sent.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.allowResubmit !== undefined) return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (button) {
        button.disabled = true;
      });
    }, 0);
  });

  // Dismissable flash messages.
  document.addEventListener("click", function (event) {
    var close = event.target.closest(".message-close");
    if (close) close.parentElement.remove();
  });
})();
