// Poise dashboard: the export of a merchant's transactions with its
// progress. The export streams oldest first, so the date of the last row
// received says how far into the window [from, to) it has come; the file
// is saved only once it has arrived whole (the server cuts the connection
// on a failure midway, and then nothing is saved). Without this script the
// link downloads the same file directly.
(function () {
  "use strict";
  var link = document.getElementById("export");
  if (!link || !window.fetch || !window.ReadableStream || !window.TextDecoder) return;
  var bar = document.getElementById("export-progress");
  var status = document.getElementById("export-status");
  var from = Date.parse(link.getAttribute("data-from"));
  var to = Date.parse(link.getAttribute("data-to"));

  link.addEventListener("click", function (ev) {
    ev.preventDefault();
    bar.hidden = false;
    bar.value = 0;
    status.textContent = "Starting the export…";
    fetch(link.href, { credentials: "same-origin" }).then(function (resp) {
      if (!resp.ok) throw new Error("the server answered " + resp.status);
      var reader = resp.body.getReader();
      var decoder = new TextDecoder();
      var chunks = [], lines = 0, tail = "";
      function pump() {
        return reader.read().then(function (r) {
          if (r.done) return finish();
          chunks.push(r.value);
          var text = tail + decoder.decode(r.value, { stream: true });
          var got = text.split("\n");
          tail = got.pop();
          lines += got.length;
          for (var i = got.length - 1; i >= 0; i--) {
            var at = Date.parse(got[i].split(",")[0]);
            if (!isNaN(at)) {
              bar.value = Math.max(0, Math.min(1, (at - from) / (to - from)));
              break;
            }
          }
          status.textContent = Math.max(0, lines - 1) + " transactions so far";
          return pump();
        });
      }
      function finish() {
        var rows = Math.max(0, lines - 1);
        var file = new Blob(chunks, { type: "text/csv" });
        var a = document.createElement("a");
        a.href = URL.createObjectURL(file);
        a.download = link.getAttribute("data-file");
        document.body.appendChild(a);
        a.click();
        a.remove();
        bar.value = 1;
        status.textContent = rows + " transactions, saved as " + a.download;
        status.setAttribute("data-done", String(rows));
      }
      return pump();
    }).catch(function (e) {
      status.textContent = "The export failed (" + e.message + "); nothing was saved. Try again.";
      status.setAttribute("data-failed", "true");
    });
  });
})();
