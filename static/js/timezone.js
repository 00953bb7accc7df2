// The person's time zone, as their browser states it: remembered in a cookie, so that pages show times in it, and
// offered on a form with empty times (a form with times filled in keeps the zone they are written in).
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (e) {
    return;
  }
  if (!zone) {
    return;
  }
  document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
  document.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
    var form = select.form;
    var filled = form && Array.prototype.some.call(
      form.querySelectorAll("input[type=datetime-local]"), function (input) { return input.value !== ""; }
    );
    var offered = Array.prototype.some.call(select.options, function (option) { return option.value === zone; });
    if (!filled && offered && select.value !== zone) {
      select.value = zone;
      var note = form.querySelector("[data-zone-label]");
      if (note) {
        // The sentence comes translated from the page (data-browser-zone-note), with {zone} to fill in.
        var sentence = note.dataset.browserZoneNote || "Times are in {zone}, your browser's time zone.";
        note.textContent = sentence.replace("{zone}", zone);
      }
    }
  });
})();
