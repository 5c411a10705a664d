// "Use my location" on the storefront's search form: with the customer's permission, the
// browser's position fills in lat/lng and the search runs near it. Without JavaScript (or
// without permission) a typed place does the same.
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  if (!button || !("geolocation" in navigator)) {
    return;
  }
  var form = button.form;
  var status = document.getElementById("near-me-status");
  button.hidden = false;
  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = button.dataset.finding;
    navigator.geolocation.getCurrentPosition(function (position) {
      form.elements.lat.value = position.coords.latitude.toFixed(5);
      form.elements.lng.value = position.coords.longitude.toFixed(5);
      form.elements.here.value = "1";
      form.elements.place.value = "";
      form.elements.placed.value = "";
      form.submit();
    }, function () {
      button.disabled = false;
      status.textContent = button.dataset.failed;
    }, {timeout: 10000, maximumAge: 600000});
  });
})();
