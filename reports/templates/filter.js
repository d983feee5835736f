// Filters steps by outcome and tag. The page is complete without this
// script: it only hides steps, never adds content.
(function () {
  "use strict";
  var bar = document.getElementById("filters");
  if (!bar) { return; }
  var steps = Array.prototype.slice.call(document.querySelectorAll("details.step"));
  var boxes = Array.prototype.slice.call(bar.querySelectorAll("input[data-filter-outcome]"));
  var tag = document.getElementById("tag-filter");
  var count = document.getElementById("filter-count");
  function apply() {
    var shown = {};
    boxes.forEach(function (b) { shown[b.getAttribute("data-filter-outcome")] = b.checked; });
    var want = tag ? tag.value : "";
    var visible = 0;
    steps.forEach(function (s) {
      var tags = (s.getAttribute("data-tags") || "").split(" ");
      var ok = shown[s.getAttribute("data-outcome")] && (!want || tags.indexOf(want) >= 0);
      s.hidden = !ok;
      if (ok) { visible += 1; }
    });
    count.textContent = visible + " of " + steps.length + " steps";
  }
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  if (tag) { tag.addEventListener("change", apply); }
  bar.hidden = false;
  apply();
  document.documentElement.setAttribute("data-nvmeplan-ready", "1");
})();
