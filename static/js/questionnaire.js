// Questionnaire autosave: htmx posts the whole form on every change. This file only handles a lost
// connection: it says so, keeps retrying, and warns before leaving a page with unsaved answers.
(function () {
  "use strict";
  var unsaved = false;
  var timer = null;

  function form() { return document.getElementById("answers"); }

  function status(text) {
    var box = document.getElementById("save-result");
    if (box) { box.textContent = text; box.classList.add("save-offline"); }
  }

  function retry() {
    var f = form();
    if (f && unsaved && window.htmx) { window.htmx.trigger(f, "retry"); }
  }

  document.addEventListener("htmx:sendError", function (event) {
    var f = form();
    if (!f || !f.contains(event.detail.elt)) { return; }
    unsaved = true;
    status(f.dataset.offlineMessage || "Not saved yet.");
    if (timer === null) { timer = window.setInterval(retry, 5000); }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    var f = form();
    if (!f || !f.contains(event.detail.elt) || !event.detail.xhr || event.detail.xhr.status === 0) { return; }
    unsaved = false;
    if (timer !== null) { window.clearInterval(timer); timer = null; }
  });

  document.addEventListener("change", function (event) {
    var f = form();
    if (f && f.contains(event.target)) { unsaved = true; }
  });

  window.addEventListener("online", retry);
  window.addEventListener("beforeunload", function (event) {
    if (unsaved) { event.preventDefault(); event.returnValue = ""; }
  });
})();
