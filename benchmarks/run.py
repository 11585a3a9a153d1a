"""Every benchmark figure in one command: the kernel figures (bench_python) and the browser figures.

    python benchmarks/run.py              # full run (~16 min on 2 cores, 5 of them writing the 100,000-image
                                          # folder of bench_store), writes benchmarks/RESULTS.md
    python benchmarks/run.py --quick      # fewer repeats, writes benchmarks/.out/RESULTS-quick.md
    python benchmarks/run.py --only mask  # figures whose key contains "mask" (keys: see --list)

Each figure prints one line (`Figure.line()`: ours, the baseline, the ratio, the target and whether it
is met). Only a full, unfiltered run replaces RESULTS.md; quick or filtered runs write to
benchmarks/.out/ (or `--output PATH`) so they never overwrite the published table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import bench_batch
import bench_browser
import bench_canvas
import bench_composite
import bench_conversation
import bench_python
import bench_store
import bench_uploads
import bench_widget_open
from common import Figure, machine

HERE = Path(__file__).resolve().parent

KERNEL: dict[str, Callable[[bool], list[Figure]]] = {
    "overhead": lambda quick: bench_python.request_overhead(repeat=5 if quick else 31),
    "import": lambda quick: bench_python.import_cost(repeat=3 if quick else 7),
    "sweep": lambda quick: bench_python.sweep_concurrency(cells=8 if quick else 40, latency_s=0.5 if quick else 2.0),
    "kernel_memory": lambda quick: bench_python.kernel_memory_per_result(results=20 if quick else 200),
    "composite": lambda quick: bench_composite.composite_feather(repeat=5 if quick else 9),
    "store_scale": lambda quick: bench_store.store_at_scale(records=10_000 if quick else 100_000,
                                                            repeat=3 if quick else 7,
                                                            widget_open=bench_widget_open.widget_open,
                                                            live_poll=bench_widget_open.live_poll),
    "batch_plan": lambda quick: bench_batch.plan_50k(),
    "batch_collect": lambda quick: bench_batch.batch_2000(images=400 if quick else 2000, direct=80 if quick else 200),
    "uploads": lambda quick: bench_uploads.edit_sweep_uploads(cells=10 if quick else 40),
    "conversation": lambda quick: bench_conversation.per_turn_overhead(conversations=4 if quick else 15),
}
OUTSIDE_RUN_ALL = ("composite", "store_scale", "batch_plan", "batch_collect", "uploads", "conversation")
"""Kernel figures `bench_python.run_all` does not make: run after it."""
BROWSER_EXTRA: dict[str, bench_browser.BrowserFigure] = {
    # issue 12: each canvas tool at 3840×2160 to the kernel, and zoom / pan frame times
    "canvas": bench_canvas.canvas_figures,
}
BROWSER = [*bench_browser.FIGURES, *BROWSER_EXTRA]
BROWSER_LIMIT_S = 780.0


def _failed(key: str, exc: BaseException) -> Figure:
    return Figure(key, math.nan, "", None, "", "measured", False,
                  {"not measured": f"{type(exc).__name__}: {str(exc)[:400]}"})


def run_kernel(quick: bool, only: str | None) -> list[Figure]:
    """bench_python.run_all; if it breaks, or with --only, figure by figure (one failure loses one figure)."""
    if only is None:
        try:
            figures = bench_python.run_all(quick=quick)
        except Exception as exc:  # noqa: BLE001 - retry figure by figure below
            print(f"bench_python.run_all failed ({type(exc).__name__}: {exc}); running its figures one by one",
                  file=sys.stderr)
        else:
            for key in OUTSIDE_RUN_ALL:
                try:
                    figures += KERNEL[key](quick)
                except Exception as exc:  # noqa: BLE001 - one failure loses one figure
                    figures.append(_failed(key, exc))
            for figure in figures:
                print(figure.line(), flush=True)
            return figures
    figures = []
    for key, fn in KERNEL.items():
        if only is None or only in key:
            try:
                got = fn(quick)
            except Exception as exc:  # noqa: BLE001
                got = [_failed(key, exc)]
            for figure in got:
                print(figure.line(), flush=True)
            figures += got
    return figures


def _num(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float) and math.isnan(value):
        return "not measured"
    return f"{value:.4g} {unit}".strip()


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_results(path: Path, figures: list[Figure], info: dict[str, str], mode: str, took_s: float,
                  loads: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    lines = [
        "# Benchmark results",
        "",
        f"`python benchmarks/run.py{'' if mode == 'full' else ' ' + mode}` — {info['date']}, "
        f"took {took_s / 60:.1f} min.",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory']}, {info['os']}; Python {info['python']}, "
        f"openai {info['openai']}, Pillow {info['pillow']}; Chromium (Debian) headless, JupyterLab, emulator on "
        "loopback.",
        f"Load average (1/5/15 min) at start {' / '.join(f'{x:.1f}' for x in loads[0])}, at end "
        f"{' / '.join(f'{x:.1f}' for x in loads[1])} — the machine is shared, so absolute times are noisy; "
        "every figure is a median and ours and its baseline are measured in the same run.",
        "",
        "| figure | ours | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures:
        baseline = f"{_num(f.baseline, f.unit)} ({f.baseline_name})" if f.baseline is not None else "—"
        ratio = f"{f.ratio:.3f}x" if f.ratio is not None and not math.isnan(f.ratio) else "—"
        met = {True: "yes", False: "**no**", None: "—"}[f.met]
        lines.append(f"| {_cell(f.name)} | {_num(f.value, f.unit)} | {_cell(baseline)} | {ratio} | "
                     f"{_cell(f.target or '—')} | {met} |")
    lines += ["", "## Details", ""]
    for f in figures:
        if f.detail:
            lines.append(f"- **{f.name}**")
            lines += [f"  - {k}: {v if isinstance(v, str) else json.dumps(v, default=str)}"
                      for k, v in f.detail.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (a few minutes)")
    parser.add_argument("--only", metavar="NAME", help="only figures whose key contains NAME")
    parser.add_argument("--output", type=Path, help="where to write the results table")
    parser.add_argument("--list", action="store_true", help="list the figure keys and exit")
    args = parser.parse_args(argv)
    if args.list:
        print("kernel:", ", ".join(KERNEL), "\nbrowser:", ", ".join(BROWSER))
        return 0
    if args.only and not any(args.only in k for k in [*KERNEL, *BROWSER]):
        parser.error(f"--only {args.only!r} matches no figure; keys: {', '.join([*KERNEL, *BROWSER])}")

    # Subprocesses (the import-cost figure, the Jupyter kernels) import the package from the work tree.
    src = str(HERE.parent / "src")
    os.environ["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [os.environ.get("PYTHONPATH")])])
    started = time.monotonic()
    load_start = os.getloadavg()
    info = machine()
    print(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory']}; load {load_start[0]:.1f}", flush=True)
    figures = run_kernel(args.quick, args.only)
    try:
        figures += bench_browser.run_all(quick=args.quick, only=args.only, total_s=BROWSER_LIMIT_S,
                                         extra=BROWSER_EXTRA)
    except Exception as exc:  # noqa: BLE001 - e.g. JupyterLab did not start
        failed = _failed("browser figures", exc)
        print(failed.line(), flush=True)
        figures.append(failed)
    took = time.monotonic() - started

    mode = "full" if not args.quick and not args.only else " ".join(
        filter(None, ["--quick" if args.quick else "", f"--only {args.only}" if args.only else ""]))
    if args.output is not None:
        out = args.output
    elif mode == "full":
        out = HERE / "RESULTS.md"
    else:
        out = HERE / ".out" / ("RESULTS-quick.md" if not args.only else f"RESULTS-{args.only}.md")
    write_results(out, figures, info, mode, took, (load_start, os.getloadavg()))

    print()
    print(f"{len(figures)} figures in {took / 60:.1f} min — written to {out}")
    for f in figures:
        print(f.line())
    missed = [f.name for f in figures if f.met is False]
    print(f"targets met: {sum(f.met is True for f in figures)}, not met: {len(missed)}"
          + (f" ({'; '.join(missed)})" if missed else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
