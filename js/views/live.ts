// The shared gallery's half in the page: tell the kernel this view is on screen (on render, then every
// HEARTBEAT_MS), and that it went away (at cleanup). While some view is shown the kernel polls the
// folder's index once a second and puts runs other processes saved in front of the history strip
// (widget/live.py); a view that stops saying so (a closed tab runs no cleanup) is dropped after 3
// missed heartbeats.

import { randomId } from "../bytes";
import type { Ctx, View } from "../ctx";
import { h } from "../dom";

/** Must match widget/live.py HEARTBEAT_S. */
export const HEARTBEAT_MS = 10_000;

export function renderLive(ctx: Ctx): View {
  const viewId = randomId("view");
  const say = (shown: boolean): void => ctx.send({ type: "view", view_id: viewId, shown });
  say(true);
  ctx.interval(() => say(true), HEARTBEAT_MS);
  return { el: h("span"), cleanup: () => say(false) };
}
