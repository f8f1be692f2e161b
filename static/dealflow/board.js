// The deal side panel: opens when htmx loads a deal into it, closes on Esc or its close button,
// and gives focus back to the card that opened it.
(function () {
  "use strict";
  let openerHref = null;

  function panel() {
    return document.getElementById("deal-panel");
  }

  function closePanel() {
    const el = panel();
    if (!el || el.hidden) return;
    el.hidden = true;
    el.innerHTML = "";
    // Look the card up again: a board refresh may have replaced the element that opened the panel.
    const opener = openerHref && document.querySelector('.card-link[href="' + CSS.escape(openerHref) + '"]');
    if (opener) opener.focus();
    openerHref = null;
  }

  document.addEventListener("htmx:afterSwap", function (event) {
    const el = panel();
    if (!el || event.detail.target !== el) return;
    el.hidden = false;
    const heading = el.querySelector("#panel-title");
    (heading || el).focus();
  });

  document.addEventListener("click", function (event) {
    const cardLink = event.target.closest(".card-link");
    if (cardLink) openerHref = cardLink.getAttribute("href");
    if (event.target.closest("[data-close-panel]")) {
      const el = panel();
      if (el && el.contains(event.target)) closePanel();
      else history.back();
    }
  });

  // Elements with data-busy-target mark what they are reloading aria-busy until the response is in.
  function busyTarget(event) {
    const elt = event.detail.elt;
    const selector = elt && elt.getAttribute && elt.getAttribute("data-busy-target");
    if (!selector) return null;
    return selector.startsWith("closest ") ? elt.closest(selector.slice(8)) : document.querySelector(selector);
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    const target = busyTarget(event);
    if (target) target.setAttribute("aria-busy", "true");
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    const target = busyTarget(event);
    if (target) target.removeAttribute("aria-busy");
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") closePanel();
  });
})();
