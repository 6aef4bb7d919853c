// The registration form: only the chosen township's villages in the village list; the
// server checks the pair anyway. The form names its two fields in data attributes.
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("register-form");
    if (!form) return;
    var township = document.getElementById(form.dataset.townshipField);
    var village = document.getElementById(form.dataset.villageField);
    if (!township || !village) return;
    function narrow() {
      var chosen = township.value;
      Array.prototype.forEach.call(village.options, function (option) {
        var owner = option.getAttribute("data-township");
        var hide = owner !== null && owner !== chosen;
        option.hidden = hide;
        option.disabled = hide;
        if (hide && option.selected) village.value = "";
      });
    }
    township.addEventListener("change", narrow);
    narrow();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
