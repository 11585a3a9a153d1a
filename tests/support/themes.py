"""JupyterLab's themes on the module-test page, colour contrast as WCAG measures it, and axe-core.

The themes are the installed JupyterLab's own CSS (`jupyterlab/themes/@jupyterlab/theme-*/index.css`),
so the test follows what a person sees in that JupyterLab version. The high-contrast theme refers to
JupyterLab's material palette (`--md-*`) without fallbacks; those values come from JupyterLab's core
bundle, where the palette is defined. axe-core is the npm devDependency (node_modules/axe-core).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

THEMES: dict[str, tuple[str, bool]] = {
    "light": ("theme-light-extension", True),
    "dark": ("theme-dark-extension", False),
    "high-contrast": ("theme-dark-high-contrast-extension", False),
}
"""Short name → (JupyterLab theme package, is it a light theme)."""

JP_NAMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark", "high-contrast": "JupyterLab Dark High Contrast"}


def _jupyterlab_dir() -> Path:
    import jupyterlab

    return Path(jupyterlab.__file__).parent


@cache
def theme_css(name: str) -> str:
    """The theme's CSS, plus JupyterLab's material palette (which the high-contrast theme uses)."""
    package, _light = THEMES[name]
    css = (_jupyterlab_dir() / "themes" / "@jupyterlab" / package / "index.css").read_text()
    return f":root {{ {palette()} }}\n{css}"


@cache
def palette() -> str:
    """`--md-red-500: #f44336; …` as JupyterLab defines them (in its core bundle)."""
    found: dict[str, str] = {}
    for bundle in sorted((_jupyterlab_dir() / "static").glob("jlab_core.*.js")):
        for name, value in re.findall(r"(--md-[a-z]+(?:-[a-z]+)*-[0-9A]+):\s*(#[0-9a-fA-F]{3,8})", bundle.read_text()):
            found.setdefault(name, value)
    assert len(found) > 200, "JupyterLab's material palette was not found in its core bundle"
    return " ".join(f"{k}: {v};" for k, v in sorted(found.items()))


def apply_theme(page: Page, name: str) -> None:
    """Make the page look like JupyterLab in theme `name`: its variables, body attributes and background."""
    _package, light = THEMES[name]
    page.add_style_tag(content=theme_css(name))
    page.add_style_tag(content="body { background: var(--jp-layout-color0) !important; "
                               "color: var(--jp-ui-font-color1); }")
    page.evaluate(
        """([light, jpName]) => {
             document.body.dataset.jpThemeLight = String(light);
             document.body.dataset.jpThemeName = jpName;
           }""",
        [light, JP_NAMES[name]],
    )


# In-page contrast: colours are resolved by painting them on a 1x1 canvas (so any CSS colour syntax the
# browser computes — rgb(), color(srgb …) from color-mix() — is read the same way), the background is
# the element's and its ancestors' backgrounds composited bottom-up over white, and the text colour
# (with the opacity of it and its ancestors) is blended over that.
CONTRAST_JS = """
(selectors) => {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = 1;
  const g = canvas.getContext("2d", { willReadFrequently: true });
  const rgba = (css) => {
    g.clearRect(0, 0, 1, 1);
    g.fillStyle = "rgba(0, 0, 0, 0)";
    g.fillStyle = css;
    g.fillRect(0, 0, 1, 1);
    const [r, gr, b, a] = g.getImageData(0, 0, 1, 1).data;
    return [r, gr, b, a / 255];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const measure = (el) => {
    const chain = [];
    let opacity = 1;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      chain.push(rgba(s.backgroundColor));
      opacity *= Number(s.opacity);
    }
    let bg = [255, 255, 255, 1];
    for (const layer of chain.reverse()) bg = over(layer, bg);
    const raw = rgba(getComputedStyle(el).color);
    const fg = over([raw[0], raw[1], raw[2], raw[3] * opacity], bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    return {
      ratio: Math.round(((hi + 0.05) / (lo + 0.05)) * 100) / 100,
      fg: fg.slice(0, 3), bg: bg.slice(0, 3),
      text: el.textContent.trim().slice(0, 60),
    };
  };
  const out = {};
  for (const [label, selector] of Object.entries(selectors)) {
    const els = [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length > 0);
    out[label] = els.length ? els.map(measure) : null;
  }
  return out;
}
"""


def contrast(page: Page, selectors: dict[str, str]) -> dict[str, list[dict[str, Any]] | None]:
    """For each label, the contrast of every visible element its selector matches (None: none visible)."""
    return dict(page.evaluate(CONTRAST_JS, selectors))


def axe(page: Page, context: str = ".image-widget") -> list[dict[str, Any]]:
    """axe-core's violations inside `context` (WCAG 2.x A/AA and best practices), as axe reports them."""
    assert AXE.exists(), f"axe-core is missing ({AXE}): run `npm ci` (it is a devDependency)"
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE))
    return list(page.evaluate(
        """async (context) => {
             const result = await window.axe.run(context, {
               runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
               resultTypes: ["violations"],
             });
             return result.violations.map((v) => ({
               id: v.id, impact: v.impact, help: v.help,
               nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })),
             }));
           }""",
        context,
    ))


def serious(violations: list[dict[str, Any]]) -> list[str]:
    """The serious and critical violations, one line per element: rule, element, what is wrong."""
    return [f"{v['id']} ({v['impact']}) at {n['target']}: {' '.join(n['summary'].split())[:240]}"
            for v in violations if v["impact"] in ("serious", "critical") for n in v["nodes"]]
