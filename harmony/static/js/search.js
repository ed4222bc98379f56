// The search page: "/" moves the focus to the search box, as on many search sites, unless the
// visitor turned it off (WCAG 2.1.4; the choice is kept in this browser). A summary of errors takes
// the focus so that it is read first; after a filter, a sort or a page is chosen (the URL ends in
// #results-heading) the results heading takes it. Choosing a sort order does not submit by itself
// (WCAG 3.2.2); the Sort button does.
(function () {
  "use strict";
  var KEY = "harmony.slashShortcut";
  var setting = document.getElementById("slash-shortcut-setting");
  var toggle = document.getElementById("slash-shortcut");
  function enabled() {
    try {
      return window.localStorage.getItem(KEY) !== "off";
    } catch (error) {
      return true;
    }
  }
  if (setting && toggle) {
    toggle.checked = enabled();
    setting.hidden = false;
    toggle.addEventListener("change", function () {
      try {
        window.localStorage.setItem(KEY, toggle.checked ? "on" : "off");
      } catch (error) {
        // storage refused: the choice lasts until the page is left
      }
    });
  }
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    var on = toggle ? toggle.checked : enabled();
    if (event.key === "/" && on && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var box = document.getElementById("q");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  });
  var summary = document.getElementById("error-summary");
  var heading = document.getElementById("results-heading");
  if (summary) {
    summary.focus();
  } else if (heading && window.location.hash === "#results-heading") {
    heading.focus();
  }
})();
