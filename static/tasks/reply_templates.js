/* The reply form's templates: choosing one copies its text (filled by the server) into the
   reply box at once, where it stays editable. Without this script the picker's GET form
   reloads the page with ?template=<id> and the server pre-fills the box instead. */
(function () {
  "use strict";

  function fill(form) {
    var select = form.querySelector("select[name=template]");
    var option = select && select.options[select.selectedIndex];
    var target = document.getElementById(form.dataset.target);
    if (!option || !option.value || !target) return false;
    target.value = option.dataset.text || "";
    target.focus();
    return true;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form.reply-template-picker");
    if (form && event.target.name === "template") fill(form);
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.classList && form.classList.contains("reply-template-picker") && fill(form)) {
      event.preventDefault();
    }
  });
})();
