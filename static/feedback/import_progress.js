// The import progress page: poll the job's status every second and move the bar; when the
// job ends, reload once so the server renders the final counts, first errors and report link.
(function () {
  "use strict";
  function start() {
    var root = document.getElementById("import-job");
    if (!root || root.dataset.finished === "1") { return; }
    var url = root.dataset.statusUrl;
    function set(id, value) {
      var el = document.getElementById(id);
      if (el && value !== null && value !== undefined) { el.textContent = value; }
    }
    function poll() {
      fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
        .then(function (job) {
          var bar = document.getElementById("import-progress");
          if (bar) { bar.value = job.percent; bar.textContent = job.percent + "%"; }
          set("import-percent", job.percent);
          set("import-processed", job.processed);
          set("import-total", job.total === null ? "…" : job.total);
          set("import-imported", job.imported);
          set("import-duplicates", job.duplicates);
          set("import-errors", job.errors);
          var status = document.getElementById("import-status");
          if (status) { status.textContent = job.status_label; status.dataset.status = job.status; }
          if (job.finished || job.stale) { window.location.reload(); return; }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 500);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
