// The applicant's pages: focus on the error summary, the proposal form's autosave and disease
// suggestions, and the decision letter's print button.
// The page works fully without this file: "Save draft" posts the same form. While the applicant
// types, the form (with its CSRF token, without the file input) is posted to data-autosave-url,
// which saves every valid field and answers {saved_at, problems, submission} as JSON.
(function () {
  "use strict";

  // A page that comes back with problems starts at their summary (screen readers read it first).
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  var printButton = document.querySelector("[data-print]");
  if (printButton && window.print) {
    printButton.hidden = false;
    printButton.addEventListener("click", function () { window.print(); });
  }

  var form = document.querySelector("form[data-autosave-url]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var url = form.getAttribute("data-autosave-url");
  var status = document.getElementById("autosave-status");
  var checklist = document.getElementById("submission-problems");
  var timer = null;
  var latest = 0;
  var dirty = false;
  var inflight = null;  // the autosave under way: a form submit waits for it, so it cannot land after
  var submitting = false;

  function say(text) {
    if (status) { status.textContent = text; }
  }

  function timeOf(iso) {
    var moment = new Date(iso);
    return isNaN(moment) ? iso : moment.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});
  }

  function messagesOf(problems) {
    var out = [];
    Object.keys(problems || {}).forEach(function (key) {
      (problems[key] || []).forEach(function (message) { out.push({key: key, message: message}); });
    });
    return out;
  }

  function showChecklist(submission) {
    if (!checklist || !submission) { return; }
    var items = messagesOf(submission);
    checklist.replaceChildren();
    if (!items.length) {
      var done = document.createElement("p");
      done.className = "mb-2";
      done.textContent = "Nothing is missing: the proposal can be submitted.";
      checklist.append(done);
      return;
    }
    var list = document.createElement("ul");
    list.className = "fix-list";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.message;
      list.append(li);
    });
    checklist.append(list);
  }

  function show(result) {
    var problems = messagesOf(result.problems);
    var text = result.saved_at ? "Saved at " + timeOf(result.saved_at) + "." : "Not saved.";
    if (problems.length) {
      text += " Not saved yet: " + problems.map(function (p) {
        var field = document.getElementById(p.key) || document.getElementById(p.key + "-0");
        var label = field && field.labels && field.labels[0] ? field.labels[0].textContent.trim() : p.key;
        return label + ": " + p.message;
      }).join(" ") + "";
    }
    say(text);
    showChecklist(result.submission);
  }

  function save() {
    var ticket = ++latest;
    var body = new FormData(form);
    body.delete("ethics_approval");  // files are uploaded by "Save draft", not while typing
    body.delete("action");
    dirty = false;
    say("Saving…");
    inflight = fetch(url, {method: "POST", body: body, credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.json().catch(function () { return null; }).then(function (result) {
          return {ok: response.ok, result: result};
        });
      })
      .then(function (answer) {
        if (ticket !== latest) { return; }
        if (answer.result && answer.ok) {
          show(answer.result);
        } else {
          var problems = answer.result ? messagesOf(answer.result.problems) : [];
          say("Not saved: " + (problems.length ? problems[0].message : "the server did not answer.") +
              " Use “Save draft”.");
        }
      })
      .catch(function () {
        if (ticket === latest) { say("Not saved: no connection. Your text is still here; use “Save draft”."); }
      })
      .then(function () { if (ticket === latest) { inflight = null; } });
  }

  function later(event) {
    if (event.target && event.target.type === "file") { return; }
    dirty = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 1200);
  }

  form.addEventListener("input", later);
  form.addEventListener("change", later);
  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    dirty = false;
    if (inflight && !submitting) {  // let the autosave finish first, then send the form as the person asked
      event.preventDefault();
      submitting = true;
      var button = event.submitter;
      inflight.then(function () { form.requestSubmit(button || undefined); });
    }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // ---- disease suggestions for the purpose's disease (a plain text field without this) ----
  var disease = form.querySelector("input[data-suggest]");
  var list = disease ? document.getElementById(disease.getAttribute("list")) : null;
  if (disease && list) {
    var wait = null;
    var asked = 0;
    disease.addEventListener("input", function () {
      window.clearTimeout(wait);
      var query = disease.value.trim();
      if (query.length < 2) { return; }
      wait = window.setTimeout(function () {
        var mine = ++asked;
        fetch(disease.getAttribute("data-suggest") + "?q=" + encodeURIComponent(query),
              {headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {items: []}; })
          .then(function (body) {
            if (mine !== asked) { return; }
            list.replaceChildren.apply(list, (body.items || []).map(function (item) {
              var option = document.createElement("option");
              option.value = item.label;
              return option;
            }));
          })
          .catch(function () { /* no suggestions; typing still works */ });
      }, 200);
    });
  }
})();
