// The import page of the muster console. It does what an HR script does, through the same
// public API: the file's MD5 in the browser, POST /v1/blobs, PUT to the presigned URL, then
// a dry run (POST /v1/member_provisionings with dry_run=true) followed until it ends and
// shown as a preview; "Apply" starts the real job on the same upload. Requests carry the
// session cookie and the page's CSRF token.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form) { return; }
  var user = form.dataset.user;
  var csrf = form.dataset.csrf;
  var $ = function (id) { return document.getElementById(id); };
  var state = { signedId: null, mode: null };

  function show(id, on) { $(id).hidden = !on; }

  function api(method, url, body, headers) {
    var h = { "X-CSRF-Token": csrf };
    Object.keys(headers || {}).forEach(function (k) { h[k] = headers[k]; });
    return fetch(url, { method: method, headers: h, body: body, credentials: "same-origin" })
      .then(function (r) {
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (!r.ok) {
            throw new Error((json && json.message) || ("the server answered " + r.status));
          }
          return json;
        });
      });
  }

  // Base64 of the file's MD5 (Content-MD5), read in 4 MiB slices.
  function md5(file) {
    var slice = 4 * 1024 * 1024;
    var digest = new MusterMd5();
    var offset = 0;
    function next() {
      if (offset >= file.size) { return Promise.resolve(digest.base64()); }
      var part = file.slice(offset, offset + slice);
      offset += slice;
      return part.arrayBuffer().then(function (buf) { digest.append(buf); return next(); });
    }
    return next();
  }

  function contentType(file) {
    return /\.xlsx$/i.test(file.name)
      ? "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
      : "text/csv";
  }

  function progress(title, job) {
    show("progress", true);
    $("progress-title").textContent = title;
    var total = job ? job.rows_total : 0;
    var done = job ? Math.max(job.rows_applied || 0, job.rows_read || 0) : 0;
    $("progress-bar").max = Math.max(total, 1);
    $("progress-bar").value = done;
    $("progress-text").textContent = job ? (job.state + " · " + done + " / " + total + " rows") : "";
  }

  function q(params) {
    return Object.keys(params).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  function follow(id, title) {
    return new Promise(function (resolve, reject) {
      function poll() {
        api("GET", "/v1/member_provisionings?" + q({ id: id, user_id: user })).then(function (job) {
          progress(title, job);
          if (job.state === "succeeded" || job.state === "failed") { resolve(job); }
          else { setTimeout(poll, 500); }
        }, reject);
      }
      poll();
    });
  }

  function fill(tbody, rows) {
    tbody.textContent = "";
    rows.forEach(function (cells) {
      var tr = document.createElement("tr");
      cells.forEach(function (c) {
        var td = document.createElement("td");
        td.textContent = c[1];
        td.setAttribute("data-label", c[0]);
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
  }

  var labels = { CREATE_MEMBER: "Create", UPDATE_MEMBER: "Update", DELETE_MEMBER: "Delete" };

  function outcome(job) {
    var base = { id: job.id, user_id: user, per_page: 100 };
    return Promise.all([
      api("GET", "/v1/member_provisionings/reports?" + q(base)),
      api("GET", "/v1/member_provisionings/errors?" + q(base))
    ]).then(function (pages) {
      var report = pages[0].data.map(function (r) {
        return [["Change", labels[r.code] || r.code], ["Community", r.operation_data.name],
          ["Members", String(r.operation_data.value)]];
      });
      fill(document.querySelector("#report tbody"), report);
      var errors = pages[1].data.map(function (e) {
        return [["Line", String(e.line)], ["Column", e.column || ""], ["Error", e.code], ["Message", e.message]];
      });
      fill(document.querySelector("#errors tbody"), errors);
      show("row-errors", errors.length > 0);
      var total = pages[1].meta.pagination.total;
      $("errors-more").textContent = total > errors.length
        ? ("The first " + errors.length + " of " + total + " errors are shown; the job's page lists them all.") : "";
      show("progress", false);
      show("outcome", true);
    });
  }

  function fail(message) {
    show("progress", false);
    $("file-error").textContent = message;
    show("file-error", true);
    $("preview").disabled = false;
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    show("file-error", false);
    show("outcome", false);
    var file = $("file").files[0];
    if (!file) { fail("Choose a CSV or XLSX file first."); return; }
    state.mode = form.querySelector("input[name=mode]:checked").value;
    $("preview").disabled = true;
    progress("Reading the file", null);
    md5(file).then(function (checksum) {
      var blob = { blob: { filename: file.name, content_type: contentType(file), byte_size: file.size, checksum: checksum } };
      progress("Uploading the file", null);
      return api("POST", "/v1/blobs?" + q({ user_id: user }), JSON.stringify(blob), { "Content-Type": "application/json" });
    }).then(function (presigned) {
      state.signedId = presigned.signed_id;
      var up = presigned.direct_upload;
      var headers = {};
      Object.keys(up.headers_for_direct_upload || {}).forEach(function (k) {
        if (k.toLowerCase() !== "content-length") { headers[k] = up.headers_for_direct_upload[k]; }
      });
      return fetch(up.url_for_direct_upload, { method: "PUT", headers: headers, body: file }).then(function (r) {
        if (!r.ok) { throw new Error("the upload was refused (" + r.status + ")"); }
      });
    }).then(function () {
      return api("POST", "/v1/member_provisionings?" + q({ signed_id: state.signedId, user_id: user, operation: state.mode, dry_run: "true" }));
    }).then(function (started) {
      return follow(started.id, "Checking the file");
    }).then(function (job) {
      $("outcome-title").textContent = "Preview: nothing has changed yet";
      if (job.state === "failed") {
        $("verdict").textContent = "The file cannot be imported: " + (job.reason || "see the row errors.");
        show("apply", false);
      } else if (job.would_apply) {
        $("verdict").textContent = "Applying this file would make these changes.";
        show("apply", true);
      } else {
        $("verdict").textContent = "This file would be refused: " + (job.reason || "see the row errors.");
        show("apply", false);
      }
      $("preview").disabled = false;
      return outcome(job);
    }).catch(function (e) { fail(e.message); });
  });

  $("apply").addEventListener("click", function () {
    show("apply", false);
    show("outcome", false);
    api("POST", "/v1/member_provisionings?" + q({ signed_id: state.signedId, user_id: user, operation: state.mode }))
      .then(function (started) { return follow(started.id, "Importing"); })
      .then(function (job) {
        $("outcome-title").textContent = job.state === "succeeded" ? "Import applied" : "Import failed";
        $("verdict").textContent = job.state === "succeeded"
          ? "These changes were made. The history below lists this import." : ("Nothing was changed: " + (job.reason || ""));
        show("again", true);
        return outcome(job);
      }).catch(function (e) { fail(e.message); });
  });

  $("again").addEventListener("click", function () { window.location.reload(); });
})();
