// Vécu dashboard: draws each page's Plotly figures from the JSON embedded next to them.
// The numbers are also in the tables below the charts (for screen readers and the CSV).
(function () {
  "use strict";
  function draw() {
    if (typeof window.Plotly === "undefined") {
      document.body.setAttribute("data-charts", "unavailable");
      return;
    }
    var boxes = document.querySelectorAll(".chart[data-figure]");
    var pending = [];
    boxes.forEach(function (box) {
      var source = document.getElementById(box.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(source.textContent);
      pending.push(window.Plotly.newPlot(box, figure.data, figure.layout, {
        displayModeBar: false, responsive: true
      }));
    });
    Promise.all(pending).then(function () {
      document.body.setAttribute("data-charts", String(pending.length));
    });
  }
  // A reassignment moves the issue to another team: it is confirmed first (no preselected team).
  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
      });
    });
  }
  function ready() { draw(); confirmations(); }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
