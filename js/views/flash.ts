// A confirmation on the control that was used: the button's label says what happened ("Copied ✓",
// "Preparing…") for a moment, then goes back. Screen readers hear it through a status region the
// caller names (the label change alone is not announced).

import type { Ctx } from "../ctx";

const FLASH_MS = 2000;
const timers = new WeakMap<HTMLElement, number>();

/**
 * Show `label` on `button` (with `data-flash=<state>`) and announce `said` in `status`; after `ms`
 * (null: until the next flash or `unflash`) the button's own label comes back and the status clears.
 */
export function flash(
  ctx: Ctx,
  button: HTMLButtonElement,
  opts: { label: string; state: string; said?: string; status?: HTMLElement | null; ms?: number | null },
): void {
  const own = button.dataset.label ?? button.textContent ?? "";
  button.dataset.label = own;
  ctx.clearTimeout(timers.get(button) ?? null);
  button.textContent = opts.label;
  button.dataset.flash = opts.state;
  if (opts.status) opts.status.textContent = opts.said ?? opts.label;
  const ms = opts.ms === undefined ? FLASH_MS : opts.ms;
  if (ms !== null) timers.set(button, ctx.timeout(() => unflash(ctx, button, opts.status), ms));
}

/** The button's own label again, and an empty status. */
export function unflash(ctx: Ctx, button: HTMLButtonElement, status?: HTMLElement | null): void {
  ctx.clearTimeout(timers.get(button) ?? null);
  timers.delete(button);
  if (button.dataset.label !== undefined) button.textContent = button.dataset.label;
  delete button.dataset.label;
  delete button.dataset.flash;
  if (status) status.textContent = "";
}
