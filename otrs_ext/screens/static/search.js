// The search page comes without its counts (a pass over every match, which can take longer than the page):
// fetch them from /agent/search/counts and put them in place. Without scripts the link in the aside shows a page
// with the counts inline.
//
// Tag chips carry their colour in data-colour: the CSP allows no inline style, so it is set here through the
// DOM (which the CSP permits), with a text colour that stays readable on it.
"use strict";
(function () {
  const COLOUR = /^#[0-9a-fA-F]{6}$/;

  function paint(root) {
    root.querySelectorAll(".tag[data-colour]").forEach((chip) => {
      const colour = chip.dataset.colour;
      if (!COLOUR.test(colour)) return;
      const [r, g, b] = [1, 3, 5].map((i) => parseInt(colour.slice(i, i + 2), 16));
      chip.style.backgroundColor = colour;
      chip.style.borderColor = colour;
      chip.style.color = 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#1d232a" : "#ffffff";
      chip.dataset.painted = "1";
    });
  }

  paint(document);
  const aside = document.getElementById("facets");
  if (!aside || !aside.dataset.counts) return;
  fetch(aside.dataset.counts, { credentials: "same-origin" })
    .then((answer) => (answer.ok ? answer.text() : Promise.reject(answer.status)))
    .then((fragment) => {
      aside.innerHTML = fragment; // rendered and escaped by the server, same origin
      paint(aside);
      aside.dataset.loaded = "1";
    })
    .catch(() => { aside.dataset.loaded = "failed"; });
})();
