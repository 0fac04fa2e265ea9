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
    // sentence-row buttons: fill the one bead form with the row's sentence ids and send it
    var beadForm = document.getElementById("bead-form");
    document.querySelectorAll("button[data-bead-op]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var row = btn.closest("tr.bead");
        if (!row || !beadForm) return;
        beadForm.querySelectorAll("input[name=src], input[name=tgt]").forEach(function (i) { i.remove(); });
        var add = function (name, ids) {
          (ids || "").split(" ").filter(Boolean).forEach(function (id) {
            var i = document.createElement("input");
            i.type = "hidden"; i.name = name; i.value = id;
            beadForm.appendChild(i);
          });
        };
        add("src", row.dataset.src); add("tgt", row.dataset.tgt);
        if (btn.dataset.beadOp === "join_beads") { add("src", btn.dataset.nextSrc); add("tgt", btn.dataset.nextTgt); }
        beadForm.querySelector("input[name=op]").value = btn.dataset.beadOp;
        beadForm.querySelector("input[name=back]").value = row.dataset.back || "";
        beadForm.submit();
      });
    });
    // keyboard review on the side-by-side page: j / k next / previous pair, c confirm,
    // x reject, r re-link, u undo (not while typing in a field)
    var pairs = Array.prototype.slice.call(document.querySelectorAll("tbody.pair"));
    if (pairs.length) {
      var current = -1;
      var target = location.hash ? document.getElementById(decodeURIComponent(location.hash.slice(1))) : null;
      if (target) {
        var owner = target.closest("tbody.pair");
        current = pairs.indexOf(owner);
      }
      var select = function (i) {
        if (i < 0 || i >= pairs.length) return;
        if (current >= 0) pairs[current].classList.remove("current");
        current = i;
        pairs[i].classList.add("current");
        pairs[i].scrollIntoView({ block: "start" });
        window.scrollBy(0, -90);
      };
      if (current >= 0) pairs[current].classList.add("current");
      document.addEventListener("keydown", function (ev) {
        var t = ev.target;
        if (ev.ctrlKey || ev.metaKey || ev.altKey || (t && /^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(t.tagName))) return;
        var pair = current >= 0 ? pairs[current] : null;
        var press = function (sel) {
          var b = pair && pair.querySelector(sel);
          if (b) { b.click(); ev.preventDefault(); }
        };
        switch (ev.key) {
          case "j": select(current + 1); ev.preventDefault(); break;
          case "k": select(Math.max(current - 1, 0)); ev.preventDefault(); break;
          case "c": press("button[data-op=confirm]"); break;
          case "x": press("button[data-op=reject]"); break;
          case "r": press("a.relink"); break;
          case "u": var u = document.getElementById("undo"); if (u && !u.disabled) { u.click(); ev.preventDefault(); } break;
        }
      });
    }
  });
})();
