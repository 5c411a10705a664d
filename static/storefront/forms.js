// Every storefront form is sent once: after the first submit its buttons are disabled and
// further submits (a double click, Enter pressed again) are ignored until the next page.
// The clicked button's name and value still go with the form: the buttons are disabled
// only after the browser has read the form. A page that handles its own submit (it calls
// preventDefault) is left alone. If no new page comes (a download, say), or the visitor
// comes back to this one, the buttons work again. Bookings are also safe on the server,
// which books once per submission token.
(function () {
  "use strict";
  var RELEASE_AFTER_MS = 10000;

  function buttonsOf(form) {
    return form.querySelectorAll("button[type=submit], button:not([type]), input[type=submit]");
  }

  function release(form) {
    delete form.dataset.submitting;
    Array.prototype.forEach.call(buttonsOf(form), function (button) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !(form instanceof HTMLFormElement)) {
      return;
    }
    if (form.dataset.submitting) {
      event.preventDefault();
      return;
    }
    form.dataset.submitting = "1";
    var clicked = event.submitter;
    window.setTimeout(function () {
      Array.prototype.forEach.call(buttonsOf(form), function (button) {
        button.disabled = true;
      });
      if (clicked) {
        clicked.setAttribute("aria-busy", "true");
      }
    }, 0);
    window.setTimeout(function () { release(form); }, RELEASE_AFTER_MS);
  });

  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      Array.prototype.forEach.call(document.forms, release);
    }
  });
})();
