// The dispatch queue: the header checkbox selects or clears every row on the page.
(function () {
  "use strict";
  function start() {
    var all = document.getElementById("select-all");
    if (!all) return;
    all.addEventListener("change", function () {
      document.querySelectorAll("#dispatch-queue .row-select").forEach(function (box) { box.checked = all.checked; });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
