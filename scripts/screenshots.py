"""Regenerate README's screenshots of ``searchlib serve`` on ``indexes/demo`` (PNG, in docs/screenshots/).

    python scripts/screenshots.py [--index indexes/demo] [--out docs/screenshots]

Needs the ``web`` and ``browser`` extras and Debian's ``chromium`` (``--chromium`` to point
elsewhere). Builds ``indexes/demo`` from the sample corpus when it is missing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

import searchlib
from searchlib.web import running

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]
SHOTS = {
    "search.png": "/?q=strike+OR+walkout&entity=Gda%C5%84sk",
    "article.png": "/article/wire-0011?q=election",
    "entity.png": "/entity/HRB",
}


def _shrink(path: Path) -> None:
    """Quantise to a 256-colour palette (a third of the size; text and flat UI colours survive) when Pillow is there."""
    try:
        from PIL import Image
    except ImportError:
        return
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", default=str(ROOT / "indexes" / "demo"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)

    index = Path(args.index)
    if not index.exists():
        with searchlib.Index.create(index) as ix:
            ix.ingest(searchlib.sample_corpus_path())
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with searchlib.Index.open(index) as ix, running(ix) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 760}, device_scale_factor=1)
        for name, path in SHOTS.items():
            page.goto(base + path)
            page.screenshot(path=str(out / name))
            _shrink(out / name)
            print(f"wrote {out / name} ({(out / name).stat().st_size // 1024} KB)")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
