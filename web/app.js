// app.js - the console's only script (served by syncq; the CSP allows no other).
// It adds conveniences; every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  // "select all" checkboxes of the dead-letter table
  document.querySelectorAll("input[data-select-all]").forEach(function (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=id]").forEach(function (box) { box.checked = all.checked; });
    });
  });
  // auto-refresh: stop while the operator types in a form, so a reload loses nothing
  var meta = document.querySelector("meta[http-equiv=refresh]");
  if (meta) {
    document.querySelectorAll("input, select").forEach(function (el) {
      el.addEventListener("focus", function () { if (meta.parentNode) meta.parentNode.removeChild(meta); });
    });
  }
});
