"""Draw the README's spend picture (docs/img/spend.png) from runs against the offline emulator.

    pip install matplotlib   # optional for image_widget; needed here
    python scripts/spend_picture.py [--out docs/img/spend.png]

It makes a few runs of the current models in a temporary folder (no key: the emulator answers, nothing is
billed), one of them twice (the second from the cache, $0), then draws `iw.spend(folder, by="model")`.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "spend.png")
    args = parser.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)  # the emulator: synthetic images, nothing billed
    os.environ["IMAGE_WIDGET_LEARN_ACROSS_FOLDERS"] = "0"
    import matplotlib

    matplotlib.use("Agg")
    import image_widget as iw

    with tempfile.TemporaryDirectory() as folder:
        runs = [("gpt-image-2.6-sunburst", "low", 4), ("gpt-image-2.6-sunburst", "medium", 3),
                ("gpt-image-2.6-flare", "low", 5), ("gpt-image-2.6-flare", "high", 1), ("gpt-image-2", "medium", 2)]
        for model, quality, count in runs:
            for i in range(count):
                iw.generate(f"a lighthouse at dusk, study {i}", model=model, quality=quality, size="1024x1024",
                            store=folder, cache=True)
        iw.generate("a lighthouse at dusk, study 0", model="gpt-image-2", quality="medium", size="1024x1024",
                    store=folder, cache=True)  # from the cache: no record, $0
        frame = iw.spend(folder, by="model")
        ax = frame.plot(title="iw.spend(by=\"model\") — emulator runs, what they would cost")
        args.out.parent.mkdir(parents=True, exist_ok=True)
        ax.figure.savefig(args.out, dpi=110)
        print(frame.to_string(index=False))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
