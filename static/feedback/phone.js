// The "show number" button beside a masked phone: post it (logged on the server) and put the
// number in place of the mask. Without JavaScript the form posts and a page shows the number.
(function () {
  "use strict";
  if (window.dzPhoneReveal) { return; }
  window.dzPhoneReveal = true;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("phone-reveal")) { return; }
    event.preventDefault();
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin", headers: { "Accept": "application/json" }
    })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        var shown = document.querySelector('[data-phone-for="' + form.dataset.phoneTarget + '"]');
        if (shown) {
          shown.textContent = data.phone;
          shown.classList.remove("masked");
          shown.dataset.shown = "true";
        }
        form.remove();
      })
      .catch(function () { form.submit(); });
  });
})();
