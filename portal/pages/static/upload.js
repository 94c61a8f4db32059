// Upload with a progress bar: PUT the file to the API (cookie session + X-CSRF-Token header).
// Without JavaScript the form posts multipart to the page route instead.
(function () {
  "use strict";
  var lang = document.documentElement.lang === "en" ? "en" : "zh";
  var msg = {
    zh: { sending: "正在上传…", done: "上传完成，正在刷新…", failed: "上传失败：", tooBig: "文件过大" },
    en: { sending: "Uploading…", done: "Uploaded; reloading…", failed: "Upload failed: ", tooBig: "File too large" }
  }[lang];
  document.querySelectorAll("form.upload[data-put]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      if (!input || !input.files || !input.files.length || !window.XMLHttpRequest) { return; }
      event.preventDefault();
      var file = input.files[0];
      var bar = form.querySelector("progress");
      var status = form.querySelector(".upload-status");
      var button = form.querySelector("button[type=submit]");
      var max = parseInt(form.getAttribute("data-max") || "0", 10);
      if (max && file.size > max) { status.textContent = msg.failed + msg.tooBig; return; }
      var token = form.querySelector("input[name=csrf_token]").value;
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", form.getAttribute("data-put") + "?filename=" + encodeURIComponent(file.name));
      xhr.setRequestHeader("X-CSRF-Token", token);
      xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
      bar.hidden = false;
      bar.value = 0;
      button.disabled = true;
      status.textContent = msg.sending;
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round((e.loaded / e.total) * 100); }
      });
      xhr.addEventListener("load", function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          bar.value = 100;
          status.textContent = msg.done;
          window.location.hash = "quality";
          window.location.reload();
        } else {
          var detail = "";
          try { detail = JSON.parse(xhr.responseText).detail || ""; } catch (err) { detail = xhr.statusText; }
          status.textContent = msg.failed + detail;
          button.disabled = false;
        }
      });
      xhr.addEventListener("error", function () { status.textContent = msg.failed + "network"; button.disabled = false; });
      xhr.send(file);
    });
  });
})();
