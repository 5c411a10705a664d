/* The storefront's time picker without page reloads: month and day links (free and fully
   booked days), the choice of person and the places form fetch the page and swap in its
   picker. Without this
   script they are plain links. The waiting list's forms are ordinary POST forms. */
(function () {
  "use strict";

  function sameZone(picker) {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone === picker.dataset.zone;
    } catch (error) {
      return false;
    }
  }

  function enhance(picker) {
    // The zone is named when it differs from the visitor's own.
    if (sameZone(picker)) {
      picker.querySelectorAll(".picker-zone").forEach(function (note) { note.hidden = true; });
    }
  }

  var latest = 0;  // only the newest request's answer is shown (quick clicks overtake)

  function swap(url, focusSelector) {
    var ticket = ++latest;
    document.getElementById("picker").setAttribute("aria-busy", "true");
    return fetch(url, {credentials: "same-origin", headers: {"X-Requested-With": "fetch"}})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        if (ticket !== latest) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("picker");
        if (!fresh) { throw new Error("no picker in the answer"); }
        document.getElementById("picker").replaceWith(fresh);
        fresh.querySelectorAll("script").forEach(function (script) { script.remove(); });
        enhance(fresh);
        history.replaceState(null, "", url);
        var target = focusSelector && fresh.querySelector(focusSelector);
        if (target) { target.focus(); }
      })
      .catch(function () { if (ticket === latest) { window.location.href = url; } });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(
      "#picker .picker-day.free, #picker .picker-day.full, #picker .picker-prev, " +
      "#picker .picker-next, #picker .picker-person");
    if (!link || event.metaKey || event.ctrlKey || event.shiftKey) { return; }
    event.preventDefault();
    var isDay = link.classList.contains("picker-day");
    var isPerson = link.classList.contains("picker-person");
    // A day's first time to book, or on a fully booked day its first waiting list button;
    // a person chosen: that choice again (the times below follow it).
    swap(link.href, isDay ? ".picker-time, .picker-full button"
      : isPerson ? ".picker-person[aria-current]" : ".picker-month-label");
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList || !form.classList.contains("picker-places")) { return; }
    event.preventDefault();
    var url = new URL(form.action, window.location.href);
    new FormData(form).forEach(function (value, key) { url.searchParams.set(key, value); });
    swap(url.toString(), "#picker-quantity");
  });

  document.querySelectorAll("#picker").forEach(enhance);
}());
