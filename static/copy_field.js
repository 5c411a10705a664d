// A "Copy" button copies the text of the field it names (data-copy-target) to the
// clipboard; without clipboard access the field's text is selected for the person to copy.
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy-target"));
      if (!field) { return; }
      field.focus();
      field.select();
      var done = function () {
        button.textContent = button.getAttribute("data-copied-text") || "Copied";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
      } else {
        field.select();
      }
    });
  });
})();
