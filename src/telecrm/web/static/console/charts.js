// Draws each chart of the page from its <script type="application/json" data-chart>
// block (aggregates only; the page's table says the same without JavaScript).
(function () {
  "use strict";
  const palette = ["#1f6feb", "#d97706", "#059669", "#b42318", "#7c3aed", "#0e7490"];

  function draw(block) {
    const spec = JSON.parse(block.textContent);
    const canvas = document.getElementById(block.dataset.chart);
    if (!canvas || typeof Chart === "undefined") return;
    const axes = new Set(spec.series.map((s) => s.yAxisID));
    const scales = { y: { beginAtZero: true } };
    if (axes.has("y1")) scales.y1 = { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } };
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map((s, i) => ({
          label: s.label,
          type: s.type,
          yAxisID: s.yAxisID,
          // money and ratios arrive as exact decimal strings; the chart only draws them
          data: s.data.map((v) => (v === null ? null : Number(v))),
          backgroundColor: palette[i % palette.length],
          borderColor: palette[i % palette.length],
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: scales,
        plugins: { legend: { display: spec.series.length > 1 } },
      },
    });
    canvas.dataset.drawn = "true";
  }

  function drawAll() {
    document.querySelectorAll('script[type="application/json"][data-chart]').forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
