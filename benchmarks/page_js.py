"""The in-page JavaScript of the browser figures (`bench_browser.py`): waiters timed with `performance.now()`, which
react to DOM mutations and image `load` events, and how each side is made ready before its clock starts."""

# In-page helpers shared by the waiters below: `until(target, cond, limitMs)` resolves with
# performance.now() at the first moment `cond()` holds, checked on every DOM mutation under `target`,
# every image load/error (capture phase: those events do not bubble), and every 4 ms as a fallback.
UNTIL_JS = """
const until = (target, cond, limitMs, what) => new Promise((resolve, reject) => {
  let finished = false;
  const check = () => {
    if (finished) return;
    let ok = false;
    try { ok = cond(); } catch (e) { ok = false; }
    if (ok) { const t = performance.now(); stop(); resolve(t); }
  };
  const observer = new MutationObserver(check);
  observer.observe(target, { subtree: true, childList: true, attributes: true });
  target.addEventListener("load", check, true);
  target.addEventListener("error", check, true);
  const poll = setInterval(check, 4);
  const timer = setTimeout(() => { stop(); reject(new Error("timed out: " + what)); }, limitMs);
  function stop() {
    finished = true;
    observer.disconnect();
    target.removeEventListener("load", check, true);
    target.removeEventListener("error", check, true);
    clearInterval(poll);
    clearTimeout(timer);
  }
  check();
});
const decoded = (img) => img.complete && img.naturalWidth > 0;
"""

# Arm before clicking Generate: t0 at the click (capture phase), resolve when `n` new result images are
# decoded (and, with `previews`, also note when the first new preview image is decoded).
ARM_WIDGET_JS = UNTIL_JS + """
([sel, n, previews, limitMs]) => {
  const root = document.querySelector(sel);
  for (const img of root.querySelectorAll(".iw-result img")) img.dataset.benchOld = "1";
  const previewImg = root.querySelector("[data-role='preview'] img");
  const oldPreview = previewImg ? previewImg.getAttribute("src") : null;
  const btn = root.querySelector("button[data-action='generate']");
  window.__bench = new Promise((resolve, reject) => {
    btn.addEventListener("click", () => {
      const t0 = performance.now();
      const results = until(root, () => {
        const imgs = [...root.querySelectorAll(".iw-result img")];
        return imgs.length === n && imgs.every((img) => !img.dataset.benchOld && decoded(img));
      }, limitMs, "result images decoded");
      const first = previews ? until(root, () => {
        const img = root.querySelector("[data-role='preview'] img");
        return Number(root.dataset.preview || 0) >= 1 && !!img && !!img.getAttribute("src")
          && img.getAttribute("src") !== oldPreview && decoded(img);
      }, limitMs, "first preview decoded") : Promise.resolve(null);
      const running = until(root, () => root.dataset.state === "running", limitMs, "running")
        .catch(() => null);
      const inserted = until(root, () => {
        const imgs = [...root.querySelectorAll(".iw-result img")];
        return imgs.length === n && imgs.every((img) => !img.dataset.benchOld);
      }, limitMs, "result images inserted").catch(() => null);
      Promise.all([results, first, running, inserted]).then(([tr, tp, tr0, ti]) => resolve({
        final_ms: tr - t0, preview_ms: tp === null ? null : tp - t0, state: root.dataset.state,
        previews: Number(root.dataset.preview || 0),
        running_ms: tr0 === null ? null : tr0 - t0, inserted_ms: ti === null ? null : ti - t0,
      }), reject);
    }, { capture: true, once: true });
  });
  window.__bench.catch(() => undefined);
  return true;
}
"""

# Both sides start alike: their cell active and scrolled into view, then two frames and 200 ms for the page to
# draw what the scroll showed. (The widget's click used to start with its cell elsewhere: the harness runs the
# baseline's cell between clicks, so Playwright scrolled back and the page drew the widget again inside the
# measured time, 8-12 ms of it — a cost of the harness, which the baseline never paid.)
SETTLE_JS = """
const settle = async (cell) => {
  const notebook = window.jupyterapp.shell.currentWidget.content;
  notebook.activeCellIndex = notebook.widgets.indexOf(cell);
  cell.node.scrollIntoView({ block: "start" });
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  await new Promise((r) => setTimeout(r, 200));
};
"""
READY_WIDGET_JS = SETTLE_JS + """
async (sel) => {
  const root = document.querySelector(sel);
  await settle(window.jupyterapp.shell.currentWidget.content.widgets.find((cell) => cell.node.contains(root)));
}
"""

# The baseline: run cell `index` (SDK call + IPython.display) and time from execute to its `n` output
# images decoded. Its cell is made ready first as the widget's is before its click (`settle`).
BASELINE_JS = UNTIL_JS + SETTLE_JS + """
async ([index, n, limitMs]) => {
  const app = window.jupyterapp;
  const notebook = app.shell.currentWidget.content;
  const cell = notebook.widgets[index];
  await settle(cell);
  const done = until(cell.node, () => {
    const imgs = [...cell.node.querySelectorAll(".jp-OutputArea-output img")];
    return imgs.length === n && imgs.every(decoded);
  }, limitMs, "baseline output images decoded");
  const t0 = performance.now();
  app.commands.execute("notebook:run-cell");
  const t1 = await done;
  const start = Date.now();
  while (cell.model.executionCount === null) {
    if (Date.now() - start > limitMs) throw new Error("timed out: baseline cell did not finish");
    await new Promise((r) => setTimeout(r, 10));
  }
  const imgs = [...cell.node.querySelectorAll(".jp-OutputArea-output img")];
  return { ms: t1 - t0, sizes: imgs.map((i) => [i.naturalWidth, i.naturalHeight]),
           src_kb: imgs.map((i) => Math.round((i.getAttribute("src") || "").length / 1024)) };
}
"""
