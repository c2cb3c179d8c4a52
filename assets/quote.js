// The quote page's print link (no inline handlers: the CSP forbids them), and
// on a narrow screen a scrolling box for the lines table, so the page itself
// never scrolls sideways.
for (const link of document.querySelectorAll("[data-print]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    window.print();
  });
}
for (const table of document.querySelectorAll(".quote table")) {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  table.before(wrap);
  wrap.append(table);
}
