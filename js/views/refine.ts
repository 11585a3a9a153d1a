// The refine box under the current result: a conversation through the Responses API (widget/conversation.py).
// Each send adds a turn to the strip of thumbnails; clicking an earlier turn makes the next send branch
// from there (`refine_select`); "New conversation" starts over from the current result. "Paint a mask on
// this turn" makes the turn's image the mask canvas (`use_as_input`), so the mask goes as
// `input_image_mask`. Enter sends, Escape cancels a running turn. Nothing is computed here: the strip is
// the kernel's `conversation` trait, read from the store (it comes back after a restart).

import { toBytes } from "../bytes";
import type { Ctx, View } from "../ctx";
import { UrlBatch } from "../url-batch";
import { button, h, thumbImg, uid } from "../dom";
import type { Conversation, ConversationTurn } from "../protocol";
import "./refine.css";

function turnLabel(t: ConversationTurn, selected: boolean): string {
  const verb = t.action === "generate" ? "made" : "changed";
  return `Turn ${t.turn ?? "?"} (${verb}): ${t.prompt ?? ""}${selected ? " — the next turn continues from here" : ""}`;
}

export function renderRefine(ctx: Ctx): View {
  const id = uid("refine");
  const field = h("input", {
    class: "iw-refine-input",
    attrs: { id, type: "text", autocomplete: "off", placeholder: "Refine: “make it night”, “add a lantern”…" },
  }) as HTMLInputElement;
  const send = button("Refine", { class: "iw-refine-send", attrs: { "data-action": "refine" } });
  const fresh = button("New conversation", { class: "iw-refine-new", attrs: { "data-action": "refine-new" } });
  const paint = button("Paint a mask on this turn", {
    class: "iw-refine-mask",
    attrs: { "data-action": "refine-mask" },
  });
  const strip = h("ol", { class: "iw-refine-turns", attrs: { "aria-label": "Turns of the conversation" } });
  const where = h("p", { class: "iw-hint iw-refine-where", attrs: { "aria-live": "polite" } });
  const form = h("form", { class: "iw-refine-form" }, [
    h("label", { text: "Refine by conversation", attrs: { for: id } }),
    field,
    send,
  ]);
  const actions = h("div", { class: "iw-refine-actions" }, [paint, fresh]);
  const el = h("section", { class: "iw-refine", attrs: { "data-role": "refine", "aria-label": "Refine" } }, [
    strip,
    where,
    form,
    actions,
  ]);
  const urls = new UrlBatch(ctx);

  const conversation = (): Conversation => ctx.model.get("conversation") ?? { turns: [] };
  const render = (): void => {
    const c = conversation();
    const turns = c.turns ?? [];
    const running = ctx.running();
    el.dataset.turns = String(turns.length);
    urls.render((url) => {
      strip.replaceChildren(
        ...turns.map((t) => {
          const selected = t.id === c.selected;
          const pick = button("", {
            class: "iw-refine-turn",
            attrs: {
              "data-id": t.id,
              "data-turn": String(t.turn ?? ""),
              "aria-pressed": selected ? "true" : "false",
              "aria-label": turnLabel(t, selected),
              title: turnLabel(t, selected),
            },
          });
          pick.append(thumbImg(toBytes(t.thumb), { alt: "" }, url), h("span", { text: String(t.turn ?? "") }));
          pick.disabled = running;
          return h("li", {}, [pick]);
        }),
      );
    });
    const latest = turns.length ? turns[turns.length - 1] : undefined;
    const chosen = turns.find((t) => t.id === c.selected);
    const hasResult = (ctx.model.get("results") ?? []).length > 0;
    // With no turn yet the box is one line (the placeholder says what the first turn does); the strip, the
    // line saying where the next turn continues from and the turn actions come with the first turn.
    field.placeholder = turns.length ? "Refine: “make it night”, “add a lantern”…"
      : hasResult ? "Refine the current result: “make it night”…" : "Describe an image, then refine it turn by turn…";
    where.textContent = !turns.length ? ""
      : chosen && latest && chosen.id !== latest.id
        ? `The next turn branches from turn ${chosen.turn}.`
        : `The next turn continues from turn ${latest?.turn}.`;
    where.hidden = actions.hidden = !turns.length;
    send.disabled = running || !field.value.trim();
    paint.disabled = running || !chosen;
    fresh.disabled = running || !turns.length;
  };

  ctx.listen<MouseEvent>(strip, "click", (e) => {
    const target = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-id]");
    if (target && !target.disabled) ctx.send({ type: "refine_select", id: target.dataset.id ?? "" });
  });
  ctx.listen(field, "input", render);
  ctx.listen<KeyboardEvent>(field, "keydown", (e) => {
    if (e.key === "Escape" && ctx.running()) {
      e.preventDefault();
      ctx.send({ type: "cancel" });
    }
  });
  ctx.listen<SubmitEvent>(form, "submit", (e) => {
    e.preventDefault();
    const prompt = field.value.trim();
    if (!prompt || ctx.running()) return;
    ctx.send({ type: "refine", prompt });
    field.value = "";
    render();
  });
  ctx.listen(fresh, "click", () => ctx.send({ type: "refine_new" }));
  ctx.listen(paint, "click", () => {
    const chosen = conversation().selected;
    if (chosen) ctx.send({ type: "use_as_input", id: chosen, role: "edit" });
  });
  ctx.onChange(["conversation", "status", "results"], render);
  render();
  return { el, cleanup: () => urls.render(() => undefined) };
}
