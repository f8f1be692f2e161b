// The deal side panel: opens when htmx loads a deal into it, closes on Esc or its close button,
// and gives focus back to the card that opened it.
(function () {
  "use strict";
  let opener = null;

  function panel() {
    return document.getElementById("deal-panel");
  }

  function closePanel() {
    const el = panel();
    if (!el || el.hidden) return;
    el.hidden = true;
    el.innerHTML = "";
    if (opener && document.body.contains(opener)) opener.focus();
    opener = null;
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const el = panel();
    if (el && event.detail.target === el) opener = event.detail.elt;
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    const el = panel();
    if (!el || event.detail.target !== el) return;
    el.hidden = false;
    const heading = el.querySelector("#panel-title");
    (heading || el).focus();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-close-panel]")) {
      const el = panel();
      if (el && el.contains(event.target)) closePanel();
      else history.back();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
})();
