"""Takes the README's screenshot of the HTML report, samples/pictures/report.png: the
neuron's report in English, stepped to a gate in the middle of the backward pass so that
its highlight and the panel show, in the headless Chromium the tests use (the system's,
driven by Playwright; nothing is downloaded). Run it from anywhere:

    python3 samples/pictures/report.py          (BPCLI=".venv/bin/bpcli" python3 … for
                                                 another bpcli; BPCLI_CHROMIUM=PATH for
                                                 another browser)

The report is what this command writes:

    bpcli grad samples/neuron.bp --lang en -o report.html
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent.parent
PICTURE = ROOT / "samples" / "pictures" / "report.png"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Below 64rem the report is one column, the circuit over the panel, and the neuron's circuit
# fits its frame whole; GitHub shows a README's picture at most about 1000 pixels wide, so
# this is about its size there, drawn at twice the pixels to stay sharp.
WIDTH = 1000
SCALE = 2
STEPS_IN = 4  # of the neuron's 8 gates, the add gate w0*x0 + w1*x1 + w2: two inputs lit


def main() -> None:
    bpcli = shlex.split(os.environ.get("BPCLI", "")) or [sys.executable, "-m", "bpcli"]
    browser = os.environ.get("BPCLI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("error: no Chromium on the PATH (apt-get install chromium, or set BPCLI_CHROMIUM)")
    with tempfile.TemporaryDirectory() as folder:
        report = Path(folder) / "report.html"
        program = ROOT / "samples" / "neuron.bp"
        subprocess.run([*bpcli, "grad", str(program), "--lang", "en", "-o", str(report)], check=True)
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=browser, args=FLAGS)
            page = chromium.new_page(viewport={"width": WIDTH, "height": 900}, device_scale_factor=SCALE)
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
            page.goto(report.as_uri())
            page.keyboard.press("Home")
            for _ in range(STEPS_IN):
                page.keyboard.press("ArrowRight")
            page.mouse.move(0, 0)
            # the title and the gradients, the circuit, and the stepping panel under it
            boxes = [page.locator(part).bounding_box() for part in ("header", "#circuit-section", "#stepper")]
            bottom = max(box["y"] + box["height"] for box in boxes if box is not None)
            page.screenshot(path=str(PICTURE), clip={"x": 0, "y": 0, "width": WIDTH, "height": bottom + 16})
            chromium.close()
    print(f"wrote {PICTURE.relative_to(ROOT)} ({PICTURE.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
