// PayPal's buttons on a booking's page, when the page loaded PayPal's JS SDK: they replace
// the plain "Pay with PayPal" form, which stays when the SDK did not load (or without
// JavaScript). createOrder asks this site for the booking's PayPal order; onApprove sends
// the approved order back to be captured here (the booking is paid only from PayPal's
// completed capture), then the booking's page says how it went.
(function () {
  "use strict";
  var box = document.getElementById("paypal-buttons");
  if (!box || !window.paypal || typeof window.paypal.Buttons !== "function") {
    return;
  }
  var form = document.querySelector(".paypal-form");
  var errorLine = document.getElementById("paypal-error");

  function say(message) {
    errorLine.textContent = message || box.dataset.failed;
    errorLine.hidden = false;
  }

  // A JSON POST to this site; rejects with the message the answer gives, if any.
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json",
                "X-CSRFToken": box.dataset.csrfToken},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.message || "HTTP " + response.status);
          error.shopMessage = data.message;
          error.redirect = data.redirect;
          throw error;
        }
        return data;
      });
    });
  }

  var buttons = window.paypal.Buttons({
    style: {layout: "horizontal", label: "paypal", tagline: false},
    createOrder: function () {
      errorLine.hidden = true;
      return post(box.dataset.orderUrl).then(function (data) { return data.id; });
    },
    onApprove: function (data) {
      return post(box.dataset.captureUrl, {order_id: data.orderID}).then(function (answer) {
        window.location.assign(answer.redirect);
      }, function (error) {
        say(error.shopMessage);
      });
    },
    onCancel: function () {
      window.location.assign(box.dataset.cancelUrl);
    },
    onError: function (error) {
      if (error && error.redirect) {
        window.location.assign(error.redirect);
        return;
      }
      say(error && error.shopMessage);
    }
  });
  if (buttons.isEligible && !buttons.isEligible()) {
    return;
  }
  // Rendered into a visible box (PayPal sizes its buttons to it); the form goes once they
  // are there, and stays if they could not be.
  buttons.render("#paypal-buttons").then(function () {
    form.hidden = true;
  }, function () {
    box.textContent = "";
  });
})();
