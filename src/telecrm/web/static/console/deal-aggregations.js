// The deal aggregations chart: one point a period, from the page's JSON block (the
// server's sums; the table on the page holds the same figures).
(function () {
  const data = JSON.parse(document.getElementById("deal-chart-data").textContent);
  const canvas = document.getElementById("deal-chart");
  canvas.chart = new Chart(canvas, {
    data: {
      labels: data.labels,
      datasets: [
        { type: "bar", label: "Total deal size", data: data.totals.map(Number), yAxisID: "size", backgroundColor: "#1f77b4" },
        { type: "line", label: "Deals", data: data.deals, yAxisID: "count", borderColor: "#d62728", backgroundColor: "#d62728" },
      ],
    },
    options: {
      animation: false,
      scales: {
        size: { type: "linear", position: "left", beginAtZero: true, title: { display: true, text: "deal size" } },
        count: { type: "linear", position: "right", beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: "deals" }, ticks: { precision: 0 } },
      },
    },
  });
  canvas.dataset.rendered = "true";
})();
