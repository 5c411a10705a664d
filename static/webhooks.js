/* Webhook endpoints in the console: copying a secret shown once, the event checkboxes of
   the endpoint form, and opening the Deliveries tab when the address asks for it. */
(function () {
  "use strict";

  // The page that shows a secret answers a form: its address becomes the endpoint's page,
  // so reloading it neither sends the form again nor shows the secret again.
  var once = document.getElementById("secret-once");
  if (once && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", once.getAttribute("data-page"));
  }

  var copy = document.getElementById("copy-secret");
  if (copy) {
    copy.addEventListener("click", function () {
      var field = document.querySelector(copy.getAttribute("data-copy"));
      var label = copy.querySelector(".copy-label");
      var done = function () { label.textContent = "Copied"; };
      field.select();
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(field.value).then(done, function () {
          label.textContent = "Select and copy";
        });
      } else {
        // Plain http (a local install): the selection is copied the old way.
        try { document.execCommand("copy"); done(); } catch (e) { label.textContent = "Select and copy"; }
      }
    });
  }

  // "All events" covers every group; a group's box ticks or clears all of its events.
  var all = document.getElementById("topics-all");
  var groups = document.getElementById("topic-groups");
  function topicsOf(group) {
    return groups.querySelectorAll('input[name="topics"][data-group="' + group + '"]');
  }
  function showGroupState(group) {
    var boxes = topicsOf(group), ticked = 0;
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { ticked++; } }
    var toggle = groups.querySelector('.webhook-group-toggle[data-group="' + group + '"]');
    toggle.checked = ticked === boxes.length;
    toggle.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  function showAll() {
    groups.classList.toggle("webhook-covered", all.checked);
    var inputs = groups.querySelectorAll("input");
    for (var i = 0; i < inputs.length; i++) { inputs[i].disabled = all.checked; }
  }
  if (all && groups) {
    var toggles = groups.querySelectorAll(".webhook-group-toggle");
    for (var i = 0; i < toggles.length; i++) {
      showGroupState(toggles[i].getAttribute("data-group"));
      toggles[i].addEventListener("change", function (event) {
        var boxes = topicsOf(event.target.getAttribute("data-group"));
        for (var j = 0; j < boxes.length; j++) { boxes[j].checked = event.target.checked; }
      });
    }
    groups.addEventListener("change", function (event) {
      if (event.target.name === "topics") { showGroupState(event.target.getAttribute("data-group")); }
    });
    all.addEventListener("change", showAll);
    showAll();
  }

  // The Deliveries tab when the address names it (a filter, a page of older ones).
  if (window.location.hash === "#deliveries" && window.jQuery) {
    window.jQuery('a[href="#deliveries"]').tab("show");
  }
})();
