"""Pieces for driving a notebook open in Chromium: in-page scripts with a timer around every await,
and reading a cell's outputs. Shared by the end-to-end tests, the benchmarks and the screenshot script."""

from __future__ import annotations

from typing import Any

WITH_TIMER_JS = """
const withTimer = (promise, what, limitMs) => Promise.race([
  promise,
  new Promise((_, reject) => setTimeout(() => reject(new Error("timed out: " + what)), limitMs)),
]);
"""

OPEN_JS = WITH_TIMER_JS + """
async (limitMs) => {
  const app = window.jupyterapp;
  await withTimer(app.started, "app.started", limitMs);
  await withTimer(app.restored, "app.restored", limitMs);
  const start = Date.now();
  let panel = app.shell.currentWidget;
  while (!panel || !panel.sessionContext) {
    if (Date.now() - start > limitMs) throw new Error("timed out: no notebook panel");
    await new Promise((resolve) => setTimeout(resolve, 50));
    panel = app.shell.currentWidget;
  }
  await withTimer(panel.context.ready, "context.ready", limitMs);
  await withTimer(panel.sessionContext.ready, "sessionContext.ready", limitMs);
  return true;
}
"""
"""Wait until the app, the notebook panel and its session are ready (each step bounded)."""

KERNEL_IDLE_JS = """
() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return !!kernel && kernel.connectionStatus === "connected" && kernel.status === "idle";
}
"""
"""True once the current notebook's kernel is connected and idle (for `page.wait_for_function`)."""


def output_text(outputs: list[dict[str, Any]]) -> str:
    """The text a cell printed or returned; an error becomes `ERROR name: value`."""
    parts: list[str] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
        elif kind == "error":
            parts.append(f"ERROR {out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)
