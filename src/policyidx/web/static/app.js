// policyidx workbench: small enhancements; every page works without them.
(function () {
  "use strict";
  function ready(fn) { if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn); }
  ready(function () {
    // in-page filter: hide clauses / pairs whose text does not contain the words typed
    var filter = document.getElementById("filter");
    if (filter) {
      filter.addEventListener("input", function () {
        var q = filter.value.trim().toLowerCase();
        var units = document.querySelectorAll("tbody.pair, li.clause");
        units.forEach(function (u) { u.classList.remove("hidden"); });
        if (!q) return;
        units.forEach(function (u) {
          if (u.tagName === "LI") {
            var own = u.querySelector(".chead") ? u.textContent.toLowerCase() : "";
            if (own.indexOf(q) < 0) u.classList.add("hidden");
          } else if (u.textContent.toLowerCase().indexOf(q) < 0) {
            u.classList.add("hidden");
          }
        });
      });
    }
    // re-link: the buttons prefill the re-link form with the pair's clauses
    document.querySelectorAll("a.relink").forEach(function (a) {
      a.addEventListener("click", function (ev) {
        var src = document.getElementById("relink-src"), tgt = document.getElementById("relink-tgt");
        if (!src || !tgt) return;
        if (a.dataset.src) src.value = a.dataset.src;
        if (a.dataset.tgt) tgt.value = a.dataset.tgt;
        var back = document.getElementById("relink-back");
        if (back) back.value = a.dataset.back || "";
        ev.preventDefault();
        var panel = document.getElementById("relink");
        panel.scrollIntoView({ block: "center" });
        history.replaceState(null, "", "#relink");
        panel.classList.add("active");
        (a.dataset.src ? tgt : src).focus();
      });
    });
    // keep the scroll position after an edit: the server redirects to the pair's anchor
  });
})();
