/* The bookings calendar: open the "Move" panel beside a booking instead of a new page,
   drag a booking onto one of its free slots, and show a filter's choice as soon as it is
   made. Without it the page works the same
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

  // Dragging a booking: the free slots of its offering (the same list as the panel) show
  // as drop zones on the grid; dropping on one submits that slot's "move" form.
  var rowIndex = {};
  var hourRows = calendar.querySelectorAll(".calendar-hour[data-row]");
  Array.prototype.forEach.call(hourRows, function (row, index) {
    rowIndex[row.getAttribute("data-row")] = index;
  });
  var forms = document.createElement("div");
  forms.hidden = true;
  calendar.appendChild(forms);

  function clearZones() {
    Array.prototype.forEach.call(calendar.querySelectorAll(".calendar-drop"), function (zone) {
      zone.remove();
    });
    calendar.classList.remove("is-dragging");
  }

  function showZones(html) {
    forms.innerHTML = html;
    var rowHeight = hourRows.length ? hourRows[0].getBoundingClientRect().height : 64;
    Array.prototype.forEach.call(forms.querySelectorAll(".calendar-move-slot"), function (slot) {
      var column = calendar.querySelector('.calendar-column[data-day="' + slot.dataset.day + '"]');
      var row = rowIndex[slot.dataset.row];
      if (!column || row === undefined) { return; }
      var zone = document.createElement("div");
      zone.className = "calendar-drop";
      zone.dataset.slot = slot.dataset.slot;
      zone.textContent = slot.dataset.label;
      zone.style.top = ((row + Number(slot.dataset.minute) / 60) * rowHeight) + "px";
      zone.style.height = Math.max(20, Number(slot.dataset.minutes) / 60 * rowHeight) + "px";
      column.appendChild(zone);
    });
    calendar.classList.add("is-dragging");
  }

  Array.prototype.forEach.call(calendar.querySelectorAll(".calendar-booking[data-move]"),
    function (booking) { booking.draggable = true; });

  calendar.addEventListener("dragstart", function (event) {
    var booking = event.target.closest && event.target.closest(".calendar-booking[data-move]");
    if (!booking) { return; }
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", booking.dataset.reference);
    fetch(fragmentUrl(booking.dataset.move), { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { showZones(html); } })
      .catch(function () { clearZones(); });
  });
  calendar.addEventListener("dragover", function (event) {
    if (event.target.closest(".calendar-drop")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
    }
  });
  calendar.addEventListener("drop", function (event) {
    var zone = event.target.closest(".calendar-drop");
    if (!zone) { return; }
    event.preventDefault();
    var button = forms.querySelector('.calendar-move-slot[data-slot="' + zone.dataset.slot + '"]');
    if (button) { button.form.requestSubmit ? button.form.requestSubmit(button) : button.form.submit(); }
  });
  calendar.addEventListener("dragend", function () {
    window.setTimeout(clearZones, 50);
  });

  var filters = calendar.querySelector(".calendar-filters");
  if (filters) {
    filters.addEventListener("change", function (event) {
      if (!event.target.matches("select")) { return; }
      if (event.target.name === "provider_id") {
        // Another provider's offerings and people: the old choices are not theirs.
        Array.prototype.forEach.call(filters.querySelectorAll(
          'select[name="offering_id"], select[name="resource_id"]'), function (other) {
          other.value = "";
        });
      }
      filters.submit();
    });
  }
  // Bound: a click from now on opens the panel (browser tests wait for this mark).
  calendar.setAttribute("data-ready", "");
})();
