// Upload progress for an HTMX form with a <progress>: htmx's upload progress events.
document.addEventListener("htmx:xhr:progress", (event) => {
  const bar = event.target.querySelector("progress");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  bar.textContent = `${bar.value} %`;
});
document.addEventListener("htmx:afterRequest", (event) => {
  const bar = event.target.querySelector && event.target.querySelector("progress");
  if (bar) bar.hidden = true;
});
