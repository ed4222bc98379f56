// The dataset form's error summary, its live completeness panel and its "Add another creator" button.
// The score comes from the server (POST the form to data-completeness-url), so the rule that
// computes it lives in one place. Without JavaScript the panel shows the score of the last save.
(function () {
  "use strict";
  // A save that came back with problems starts at their summary (screen readers read it first).
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
  var form = document.querySelector("form[data-completeness-url]");
  if (!form) {
    return;
  }

  // ---- live completeness ----
  var url = form.getAttribute("data-completeness-url");
  var meter = document.getElementById("completeness-meter");
  var score = document.getElementById("completeness-score");
  var list = document.getElementById("completeness-fixes");
  var timer = null;
  var latest = 0;

  function item(fix) {
    var li = document.createElement("li");
    li.className = "fix-" + fix.kind;
    var link = document.createElement("a");
    link.href = "#" + fix.target;
    link.textContent = fix.label;
    var kind = document.createElement("span");
    kind.className = "badge fix-kind";
    kind.textContent = fix.kind;
    var advice = document.createElement("span");
    advice.className = "d-block small";
    advice.textContent = fix.advice;
    li.append(link, " ", kind, advice);
    return li;
  }

  function show(result) {
    meter.value = result.score;
    meter.textContent = result.score + " out of 100";
    score.textContent = result.score;
    list.replaceChildren();
    if (!result.fixes.length) {
      var done = document.createElement("li");
      done.textContent = "Nothing left to fix.";
      list.append(done);
    }
    result.fixes.forEach(function (fix) { list.append(item(fix)); });
  }

  function refresh() {
    var ticket = ++latest;
    fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) {
        if (result && ticket === latest) { show(result); }
      })
      .catch(function () { /* the panel keeps the last score; saving still works */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 300);
  }

  if (meter && score && list && window.fetch) {
    form.addEventListener("input", later);
    form.addEventListener("change", later);
  }

  // ---- one more creator row ----
  var add = form.querySelector("[data-add-creator]");
  if (add) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var rows = form.querySelectorAll("[data-creator-row]");
      var last = rows[rows.length - 1];
      var index = rows.length;
      var copy = last.cloneNode(true);
      copy.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (node) {
        ["id", "for", "name", "aria-describedby"].forEach(function (attribute) {
          var value = node.getAttribute(attribute);
          if (value) {
            node.setAttribute(attribute, value.replace(/creators-\d+-/g, "creators-" + index + "-"));
          }
        });
        if (node.tagName === "INPUT") { node.value = ""; }
      });
      copy.querySelectorAll(".invalid-feedback").forEach(function (node) { node.remove(); });
      copy.querySelectorAll(".is-invalid").forEach(function (node) {
        node.classList.remove("is-invalid");
        node.removeAttribute("aria-invalid");
      });
      var legend = copy.querySelector("legend");
      if (legend) { legend.textContent = "Creator " + (index + 1); }
      last.after(copy);
      copy.querySelector("input").focus();
    });
  }
})();
