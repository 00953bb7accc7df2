// The vote grid, with scripts: a cell is saved a moment after its choice or rationale changes; cells not saved
// yet are marked, counted in “Save all changed”, and leaving the page while any is unsaved asks first.
// Without scripts each cell's Save button posts its form, and the page works the same.
(function () {
  "use strict";
  var AUTOSAVE_MS = 700;
  var timers = new Map();  // a cell's form -> its save waiting to be sent

  function cellForms() {
    return Array.prototype.slice.call(document.querySelectorAll("table.vote-grid form.cell-form"));
  }

  function unsaved(form) {
    var choice = form.elements.choice, rationale = form.elements.rationale;
    return choice.value !== choice.dataset.saved || rationale.value !== rationale.dataset.saved;
  }

  function needsRationale(form) {
    var option = form.elements.choice.selectedOptions[0];
    return option && option.hasAttribute("data-needs-rationale") && !form.elements.rationale.value.trim();
  }

  // The grid's sentences come translated from the page: data-* attributes on the table and the button.
  function said(element, name, fallback) {
    return (element && element.dataset[name]) || fallback;
  }

  function refresh() {
    var grid = document.querySelector("table.vote-grid");
    var changed = cellForms().filter(unsaved);
    cellForms().forEach(function (form) {
      var note = form.querySelector(".unsaved-note"), isUnsaved = changed.indexOf(form) >= 0;
      form.closest("td").classList.toggle("unsaved", isUnsaved);
      var text = !isUnsaved ? "" : needsRationale(form)
        ? said(grid, "notSavedWhy", "Not saved: say why, then save.")
        : said(grid, "notSaved", "Not saved yet.");
      if (note.textContent !== text) note.textContent = text;
    });
    var batch = document.getElementById("save-all");
    if (!batch) return;
    batch.hidden = false;
    var holder = batch.querySelector(".save-all-cells");
    holder.textContent = "";
    changed.filter(function (form) { return form.elements.choice.value; }).forEach(function (form) {
      ["component", "criterion", "choice", "rationale"].forEach(function (name) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.name = name;
        input.value = form.elements[name].value;
        holder.appendChild(input);
      });
    });
    var count = holder.querySelectorAll("input[name=component]").length;
    var button = document.getElementById("save-all-button");
    button.disabled = count === 0;
    button.textContent = count
      ? said(button, "labelCount", "Save all changed ({count})").replace("{count}", count)
      : said(button, "label", "Save all changed");
  }

  function schedule(form) {
    clearTimeout(timers.get(form));
    if (!unsaved(form) || needsRationale(form)) return;
    timers.set(form, setTimeout(function () {
      timers.delete(form);
      if (form.isConnected) form.requestSubmit();
    }, AUTOSAVE_MS));
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest && event.target.closest("form.cell-form");
    if (form) schedule(form);
    refresh();
  });
  document.addEventListener("input", function (event) {
    if (event.target.closest && event.target.closest("form.cell-form")) refresh();
  });
  // A save asked for by hand replaces the one waiting.
  document.addEventListener("submit", function (event) {
    if (event.target.id === "save-all") timers.forEach(clearTimeout);  // every changed cell goes with it
    if (event.target.classList && event.target.classList.contains("cell-form")) clearTimeout(timers.get(event.target));
    if (!event.target.hasAttribute("hx-post")) leaving = true;  // a plain post reloads the page itself
  }, true);
  document.addEventListener("htmx:afterSettle", function (event) {
    // A cell swapped in without the control that had the focus (after a withdrawal): its choice takes it.
    var cell = event.detail.target;
    if (document.activeElement === document.body && cell && cell.id && document.getElementById(cell.id)) {
      var choice = document.getElementById(cell.id + "-choice");
      if (choice) choice.focus();
    }
    refresh();
  });
  document.addEventListener("DOMContentLoaded", refresh);

  var leaving = false;
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !cellForms().some(unsaved)) return;
    event.preventDefault();
    event.returnValue = "";  // the browser says, in its own words, that changes may not be saved
  });
})();
