// The dealflow board's behaviour. All of it lives here: pages run under a Content-Security-Policy
// without 'unsafe-inline', so templates carry no scripts, event handlers or hx-on attributes.
(function () {
  "use strict";

  // --- The deal side panel -----------------------------------------------------------------
  // A card's link loads the deal into #deal-panel and pushes the deal's URL (hx-push-url), so Back
  // closes the panel (htmx restores the board as it was) and a pasted URL opens it (the server
  // renders the board with the panel open). While open it traps focus; closing returns focus to
  // the card that opened it.
  let openerHref = null;
  let panelWasPushed = false; // the panel's URL is our own history entry: closing goes Back

  function panel() {
    return document.getElementById("deal-panel");
  }

  function panelIsOpen() {
    const el = panel();
    return Boolean(el && !el.hidden);
  }

  function focusOpener() {
    // Look the card up again: a board refresh or history restore may have replaced it.
    const opener = openerHref && document.querySelector('.card-link[href="' + CSS.escape(openerHref) + '"]');
    if (opener) opener.focus();
    else document.getElementById("main").focus();
  }

  function hidePanel() {
    const el = panel();
    if (!el) return;
    el.hidden = true;
    el.innerHTML = "";
  }

  function closePanel() {
    if (!panelIsOpen()) return;
    if (panelWasPushed) {
      panelWasPushed = false;
      history.back(); // htmx restores the board's snapshot: the panel closed
      return;
    }
    // Opened from a pasted URL: there is no board entry to go back to, so replace this one.
    const boardUrl = panel().getAttribute("data-board-url");
    hidePanel();
    if (boardUrl) history.replaceState({ htmx: true }, "", boardUrl);
    focusOpener();
  }

  function showPanel() {
    const el = panel();
    el.hidden = false;
    const heading = el.querySelector("#panel-title");
    (heading || el).focus();
  }

  document.addEventListener("htmx:beforeHistoryUpdate", function (event) {
    // A second card opened while the panel is open replaces the entry: one Back closes the panel.
    const target = event.detail.target;
    if (target && target.id === "deal-panel" && panelIsOpen() && panelWasPushed) {
      event.detail.history.type = "replace";
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.target !== panel()) return;
    if (event.detail.requestConfig && event.detail.requestConfig.verb === "get") panelWasPushed = true;
    showPanel();
  });

  document.addEventListener("click", function (event) {
    const cardLink = event.target.closest(".card-link");
    if (cardLink) openerHref = cardLink.getAttribute("href");
    if (event.target.closest("[data-close-panel]")) {
      const el = panel();
      if (el && el.contains(event.target)) closePanel();
    }
  });

  function focusables(container) {
    return Array.from(
      container.querySelectorAll('a[href], button:not([disabled]), input, select, textarea, [tabindex]:not([tabindex="-1"])')
    ).filter(function (el) {
      return el.offsetParent !== null;
    });
  }

  document.addEventListener("keydown", function (event) {
    if (!panelIsOpen()) return;
    if (event.key === "Escape") {
      event.preventDefault();
      closePanel();
      return;
    }
    if (event.key !== "Tab") return;
    const el = panel();
    const items = focusables(el);
    if (!items.length) return;
    const first = items[0];
    const last = items[items.length - 1];
    const inside = el.contains(document.activeElement);
    if (event.shiftKey && (!inside || document.activeElement === first || document.activeElement === el)) {
      event.preventDefault();
      last.focus();
    } else if (!event.shiftKey && (!inside || document.activeElement === last)) {
      event.preventDefault();
      first.focus();
    }
  });

  // --- Filters follow the URL ----------------------------------------------------------------
  // After Back/Forward (htmx's history restore, or the browser's own) the inputs show the state
  // the URL, and so the board, is in; a missing or unknown value shows the default.
  function syncFiltersWithUrl() {
    const form = document.querySelector("form.filters");
    if (!form) return;
    const params = new URLSearchParams(location.search);
    Array.from(form.elements).forEach(function (field) {
      if (!field.name) return;
      const wanted = params.get(field.name) || form.getAttribute("data-default-" + field.name) || "";
      if (field.tagName === "SELECT") {
        const known = Array.from(field.options).some(function (option) {
          return option.value === wanted;
        });
        field.value = known ? wanted : form.getAttribute("data-default-" + field.name) || "";
      } else if (field.type !== "submit" && field.type !== "button") {
        field.value = wanted;
      }
    });
  }

  document.addEventListener("htmx:historyRestore", function () {
    syncFiltersWithUrl();
    placeBoard();
    syncColumnSwitcher();
    if (panelIsOpen()) {
      panelWasPushed = true; // reached with Forward: the board entry is behind it
      showPanel();
    } else {
      focusOpener();
    }
  });
  window.addEventListener("pageshow", syncFiltersWithUrl);

  // --- Loading states ------------------------------------------------------------------------
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

  // After "Load more" the first new card takes the focus (the button it replaces is gone).
  document.addEventListener("htmx:load", function (event) {
    const first = event.target.matches && event.target.matches("[data-first-new]") ? event.target : null;
    if (!first) return;
    first.removeAttribute("data-first-new");
    const link = first.querySelector(".card-link");
    if (link) link.focus();
  });

  // --- Moving around the board ---------------------------------------------------------------
  // On a card: left/right go to the neighbouring column's card at the same height (or its last),
  // up/down to the neighbouring card in the column.
  function columnsWithCards() {
    return Array.from(document.querySelectorAll(".board .column")).filter(function (column) {
      return column.querySelector(".card-link");
    });
  }

  document.addEventListener("keydown", function (event) {
    const link = event.target.closest && event.target.closest(".board .card-link");
    if (!link || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const column = link.closest(".column");
    const links = Array.from(column.querySelectorAll(".card-link"));
    const index = links.indexOf(link);
    let next = null;
    if (event.key === "ArrowDown") next = links[index + 1];
    else if (event.key === "ArrowUp") next = links[index - 1];
    else if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      const columns = columnsWithCards();
      const other = columns[columns.indexOf(column) + (event.key === "ArrowRight" ? 1 : -1)];
      if (other) {
        const otherLinks = other.querySelectorAll(".card-link");
        next = otherLinks[Math.min(index, otherLinks.length - 1)];
      }
    } else return;
    event.preventDefault();
    if (next) {
      next.focus();
      next.closest(".card").scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });

  // The board scrolls in both directions inside the window, so its horizontal scrollbar and
  // sticky column headers stay where the user is; its height is what the window has left.
  function placeBoard() {
    const board = document.querySelector(".board");
    if (!board) return;
    const top = board.getBoundingClientRect().top + window.scrollY;
    document.documentElement.style.setProperty("--board-top", Math.round(top) + "px");
  }

  // On a phone one column shows at a time; the switcher above the board picks it.
  function syncColumnSwitcher() {
    const board = document.querySelector(".board");
    if (!board) return;
    const columns = Array.from(board.querySelectorAll(".column"));
    const boardLeft = board.getBoundingClientRect().left;
    let current = columns[0];
    columns.forEach(function (column) {
      if (Math.abs(column.getBoundingClientRect().left - boardLeft) < column.offsetWidth / 2) current = column;
    });
    document.querySelectorAll(".column-tab").forEach(function (tab) {
      tab.setAttribute("aria-pressed", String(Boolean(current) && tab.getAttribute("data-column-target") === current.getAttribute("data-column")));
    });
  }

  document.addEventListener("click", function (event) {
    const tab = event.target.closest(".column-tab");
    if (!tab) return;
    const column = document.getElementById("column-" + tab.getAttribute("data-column-target"));
    const board = column && column.closest(".board");
    if (!board) return;
    board.scrollTo({ left: column.offsetLeft - board.offsetLeft, top: 0 });
    document.querySelectorAll(".column-tab").forEach(function (other) {
      other.setAttribute("aria-pressed", String(other === tab));
    });
  });

  document.addEventListener(
    "scroll",
    function (event) {
      if (event.target.classList && event.target.classList.contains("board")) syncColumnSwitcher();
    },
    true
  );

  // --- After Sync now: refresh the board in place ----------------------------------------------
  // Keeps the window's and the board's scroll positions and an open panel (it is outside the region).
  document.addEventListener("dealflow:synced", function () {
    const region = document.getElementById("board-region");
    if (!region || !window.htmx) return;
    const board = region.querySelector(".board");
    const kept = { x: window.scrollX, y: window.scrollY, left: board ? board.scrollLeft : 0, top: board ? board.scrollTop : 0 };
    window.htmx
      .ajax("GET", region.getAttribute("data-refresh-url"), { target: "#board-region", swap: "outerHTML" })
      .then(function () {
        const fresh = document.querySelector("#board-region .board");
        if (fresh) fresh.scrollTo(kept.left, kept.top);
        window.scrollTo(kept.x, kept.y);
      });
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.detail.target && event.detail.target.id === "board-region") {
      placeBoard();
      syncColumnSwitcher();
    }
  });

  function ready() {
    placeBoard();
    syncColumnSwitcher();
    if (panelIsOpen()) showPanel(); // a pasted deal URL
  }

  window.addEventListener("resize", placeBoard);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
