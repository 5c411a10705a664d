/* The bookings calendar: open the "Move" panel beside a booking instead of a new page,
   and show a filter's choice as soon as it is made. Without it the page works the same
   (links and a Show button). No inline handlers: everything is bound here. */
(function () {
  "use strict";
  var calendar = document.querySelector(".calendar");
  if (!calendar) { return; }
  var popover = document.getElementById("calendar-popover");

  function fragmentUrl(href) {
    return href + (href.indexOf("?") < 0 ? "?" : "&") + "fragment=1";
  }

  function closePanel() {
    popover.hidden = true;
    popover.innerHTML = "";
  }

  function place(anchor) {
    var box = anchor.getBoundingClientRect();
    var host = calendar.getBoundingClientRect();
    var left = box.right - host.left + 6;
    if (left + 330 > host.width) { left = Math.max(0, box.left - host.left - 330); }
    popover.style.left = left + "px";
    popover.style.top = (box.top - host.top) + "px";
  }

  function openPanel(href, anchor) {
    fetch(fragmentUrl(href), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (html) {
        popover.innerHTML = html;
        if (anchor) { place(anchor); }
        popover.hidden = false;
        var first = popover.querySelector(".calendar-move-slot, .calendar-move-close");
        if (first) { first.focus(); }
      })
      .catch(function () { window.location.href = href; });  // the page of its own
  }

  calendar.addEventListener("click", function (event) {
    var move = event.target.closest(".calendar-move");
    if (move) {
      event.preventDefault();
      openPanel(move.href, move);
      return;
    }
    var other = event.target.closest(".calendar-move-nav a");
    if (other) {
      event.preventDefault();
      openPanel(other.href, null);
      return;
    }
    if (event.target.closest(".calendar-move-close")) {
      event.preventDefault();
      closePanel();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !popover.hidden) { closePanel(); }
  });

  var filters = calendar.querySelector(".calendar-filters");
  if (filters) {
    filters.addEventListener("change", function (event) {
      if (event.target.matches("select")) { filters.submit(); }
    });
  }
})();
