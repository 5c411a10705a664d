/* The weekly-hours editor: add and remove time-range rows. Without this script the form
   still works (it always offers two blank rows). */
(function () {
  "use strict";
  var rows = document.getElementById("weekly-hours-rows");
  var add = document.getElementById("weekly-hours-add");
  if (!rows || !add) { return; }

  function nextIndex() {
    var highest = -1;
    rows.querySelectorAll("[name^='ranges-']").forEach(function (input) {
      var index = parseInt(input.name.split("-")[1], 10);
      if (index > highest) { highest = index; }
    });
    return highest + 1;
  }

  function renumber(row, index) {
    row.querySelectorAll("[name], [id], label[for]").forEach(function (element) {
      ["name", "id", "for"].forEach(function (attribute) {
        var value = element.getAttribute(attribute);
        if (value) {
          element.setAttribute(attribute, value.replace(/^ranges-\d+-/, "ranges-" + index + "-"));
        }
      });
    });
  }

  function clear(row) {
    row.querySelectorAll("input[type='checkbox']").forEach(function (box) { box.checked = false; });
    row.querySelectorAll("input[type='time']").forEach(function (input) { input.value = ""; });
    row.querySelectorAll(".text-danger").forEach(function (error) { error.remove(); });
  }

  add.addEventListener("click", function () {
    var template = rows.querySelector(".weekly-hours-row:last-child");
    var row = template.cloneNode(true);
    renumber(row, nextIndex());
    clear(row);
    rows.appendChild(row);
    var first = row.querySelector("input");
    if (first) { first.focus(); }
  });

  rows.addEventListener("click", function (event) {
    var button = event.target.closest(".weekly-hours-remove");
    if (!button) { return; }
    var row = button.closest(".weekly-hours-row");
    if (rows.querySelectorAll(".weekly-hours-row").length > 1) {
      row.remove();
    } else {
      clear(row);
    }
  });
}());
