// The search page: "/" moves the focus to the search box, as on many search sites, and a
// summary of errors takes the focus so that it is read first. Choosing a sort order does not
// submit by itself (WCAG 3.2.2); the Sort button does.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var box = document.getElementById("q");
      if (box) {
        event.preventDefault();
        box.focus();
        box.select();
      }
    }
  });
  var summary = document.getElementById("error-summary");
  if (summary) {
    summary.focus();
  }
})();
