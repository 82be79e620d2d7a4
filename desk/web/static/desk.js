// Marsad desk: the one script. A filter that changes submits its form, so the view's state
// stays in the URL (a GET form) and the server redraws the map. No data is read by this script
// and nothing from an article is ever written into it.
"use strict";
// a page restored from the back/forward cache gets its fields back
window.addEventListener("pageshow", function () {
  document.querySelectorAll("#filters [disabled]").forEach(function (f) {
    f.disabled = false;
  });
});
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("filters");
  if (!form) {
    return;
  }
  form.querySelectorAll(".autosubmit").forEach(function (field) {
    field.addEventListener("change", function () {
      // drop empty fields so shared URLs stay short
      form.querySelectorAll("input, select").forEach(function (f) {
        if (f.name && f.value === "" && !f.multiple) {
          f.disabled = true;
        }
      });
      form.submit();
    });
  });
});
