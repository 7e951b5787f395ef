// The search page comes without its counts (a pass over every match, which can take longer than the page):
// fetch them from /agent/search/counts and put them in place. Without scripts the link in the aside shows a page
// with the counts inline.
"use strict";
(function () {
  const aside = document.getElementById("facets");
  if (!aside || !aside.dataset.counts) return;
  fetch(aside.dataset.counts, { credentials: "same-origin" })
    .then((answer) => (answer.ok ? answer.text() : Promise.reject(answer.status)))
    .then((fragment) => {
      aside.innerHTML = fragment; // rendered and escaped by the server, same origin
      aside.dataset.loaded = "1";
    })
    .catch(() => { aside.dataset.loaded = "failed"; });
})();
