// The history strip's search box: what is typed is sent as `history_search` (after a short pause, at once
// on Enter; Escape or emptying the box goes back to the newest runs). The kernel runs it as an index
// query and answers with `history` (the first page of matching runs) and `history_state.query`.

import type { Ctx } from "../ctx";
import { h, uid } from "../dom";
import type { HistoryState } from "../protocol";

/** Pause after the last key before the search is sent. */
export const SEARCH_DELAY_MS = 250;

export interface HistorySearch {
  el: HTMLElement;
  /** The search the kernel last confirmed ("" = none). */
  query: () => string;
}

export function historyState(ctx: Ctx): HistoryState {
  const raw = ctx.model.get("history_state");
  return raw && typeof raw === "object" ? raw : {};
}

export function renderHistorySearch(ctx: Ctx): HistorySearch {
  const id = uid("history-search");
  const input = h("input", {
    class: "iw-history-search",
    attrs: {
      id,
      type: "search",
      placeholder: "Search prompts",
      "aria-label": "Search the prompts of earlier runs",
      autocomplete: "off",
      spellcheck: "false",
      "data-role": "history-search",
    },
  });
  input.value = historyState(ctx).query ?? "";
  let timer: number | null = null;
  let sent = input.value.trim();

  const send = (): void => {
    ctx.clearTimeout(timer);
    timer = null;
    const query = input.value.trim();
    if (query === sent) return;
    sent = query;
    ctx.send({ type: "history_search", query });
  };
  ctx.listen(input, "input", () => {
    ctx.clearTimeout(timer);
    timer = input.value.trim() ? ctx.timeout(send, SEARCH_DELAY_MS) : null;
    if (!input.value.trim()) send(); // emptied (or the ✕ of a search box): the newest runs at once
  });
  ctx.listen<KeyboardEvent>(input, "keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault();
      send();
    } else if (e.key === "Escape" && input.value) {
      e.preventDefault();
      e.stopPropagation(); // Escape in a filled box clears it; in an empty one it leaves to the notebook
      input.value = "";
      send();
    }
  });
  // Another view (or Python) changed the search: show it, unless this box is being typed in.
  ctx.onChange(["history_state"], () => {
    const query = historyState(ctx).query ?? "";
    if (query !== sent && timer === null && document.activeElement !== input) {
      input.value = query;
      sent = query;
    }
  });
  const el = h("div", { class: "iw-history-find" }, [input]);
  return { el, query: () => historyState(ctx).query ?? "" };
}
