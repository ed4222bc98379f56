// Suggestions for the disease and country fields. The fields are plain text areas (one term per
// line) that work without JavaScript; this adds an input with suggestions whose choice is
// appended as a new line. Diseases come from data-suggest (the vocabulary API), countries from
// the page's <datalist> named by data-choices. If the API is missing or fails, the input still
// adds what was typed.
(function () {
  "use strict";
  var counter = 0;

  function appendLine(area, text) {
    var value = area.value.replace(/\s+$/, "");
    area.value = value ? value + "\n" + text : text;
    area.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function itemsOf(body) {
    var items = Array.isArray(body) ? body : (body && (body.items || body.terms || body.results)) || [];
    return items.map(function (item) { return typeof item === "string" ? item : item.label; })
      .filter(Boolean);
  }

  function picker(area, listId, suggestUrl) {
    var id = "picker-" + (++counter);
    var box = document.createElement("div");
    box.className = "vocab-picker input-group input-group-sm";
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = id;
    label.textContent = "Find and add to " + (area.labels[0] ? area.labels[0].textContent.trim() : "the list");
    var input = document.createElement("input");
    input.type = "text";
    input.id = id;
    input.className = "form-control";
    input.placeholder = "Type to find a term, then Enter to add";
    input.setAttribute("autocomplete", "off");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "btn btn-outline-secondary";
    button.textContent = "Add";
    var list = listId ? document.getElementById(listId) : document.createElement("datalist");
    if (!listId) {
      list.id = id + "-list";
      box.append(list);
    }
    input.setAttribute("list", list.id);
    box.prepend(label, input, button);
    area.after(box);

    function add() {
      var text = input.value.trim();
      if (text) { appendLine(area, text); }
      input.value = "";
      input.focus();
    }
    button.addEventListener("click", add);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // do not submit the form
        add();
      }
    });

    if (suggestUrl && window.fetch) {
      var timer = null;
      var ticket = 0;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        var query = input.value.trim();
        if (query.length < 2) { return; }
        timer = window.setTimeout(function () {
          var mine = ++ticket;
          fetch(suggestUrl + "?q=" + encodeURIComponent(query), {headers: {"Accept": "application/json"}})
            .then(function (response) { return response.ok ? response.json() : []; })
            .then(function (body) {
              if (mine !== ticket) { return; }
              list.replaceChildren.apply(list, itemsOf(body).map(function (text) {
                var option = document.createElement("option");
                option.value = text;
                return option;
              }));
            })
            .catch(function () { /* no suggestions; typing still works */ });
        }, 200);
      });
    }
  }

  document.querySelectorAll("textarea[data-suggest]").forEach(function (area) {
    picker(area, null, area.getAttribute("data-suggest"));
  });
  document.querySelectorAll("textarea[data-choices]").forEach(function (area) {
    picker(area, area.getAttribute("data-choices"), null);
  });
})();
