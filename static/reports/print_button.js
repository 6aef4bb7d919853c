// The report card's "Print (A4)" button (the print stylesheet lays the card out on A4).
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    if (event.target.closest("#print-button")) window.print();
  });
})();
