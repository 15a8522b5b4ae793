"""Drive notebook 04's λ panel in a real browser, served by Voilà as ``make app`` serves it.

Measures how long the page takes to show the panel, and how long the output image takes to change
after a λ step and after a filter-set switch. Needs Debian's ``chromium`` and the ``playwright``
Python package (``pip install playwright``; it drives the system browser, nothing is downloaded).

    .venv/bin/python scripts/check_panel_browser.py [--chromium /usr/bin/chromium]
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--moves", type=int, default=5)
    a = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    out = Path(tempfile.mkdtemp(prefix="faig-panel-"))
    env = {**os.environ, "FAIG_LAB_RESULTS_DIR": str(out / "results"), "FAIG_LAB_FIGURES_DIR": str(out / "figures")}
    voila = subprocess.Popen([str(Path(sys.executable).parent / "voila"), "app_lambda_panel.ipynb", f"--port={port}",
                              "--no-browser", "--progressive_rendering=True"], cwd=ROOT / "notebooks", env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=a.chromium, args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for _ in range(60):
                try:
                    page.goto(f"http://127.0.0.1:{port}/", timeout=5000)
                    break
                except Exception:
                    time.sleep(1)
            t0 = time.perf_counter()
            slider = page.locator(".widget-slider .noUi-handle, .widget-slider .slider-handle").first
            slider.wait_for(timeout=180_000)
            images = page.locator(".widget-image")
            images.nth(1).wait_for(timeout=60_000)
            shown = time.perf_counter() - t0
            page.screenshot(path=str(out / "panel.png"))
            print("panel screenshot:", out / "panel.png", flush=True)
            labels = page.locator(".widget-toggle-button").all_inner_texts()

            status = page.locator(".widget-html").filter(has_text="output difference").first

            def state() -> str:  # the caption under the λ image and the status line both follow λ
                return page.locator(".widget-html").nth(1).inner_text() + status.inner_text()

            def wait_change(before: str, timeout: float = 30.0) -> float:
                t = time.perf_counter()
                while state() == before:
                    if time.perf_counter() - t > timeout:
                        page.screenshot(path=str(out / "timeout.png"))
                        raise TimeoutError(f"the output did not change: {before!r}; readouts "
                                           f"{page.locator('.widget-readout').all_inner_texts()}; "
                                           f"{out / 'timeout.png'}")
                    time.sleep(0.01)
                return time.perf_counter() - t

            track = page.locator(".widget-slider .noUi-target, .widget-slider .slider").first.bounding_box()
            # the kernel answers widget events once the notebook's remaining cells have run
            before = state()
            page.mouse.click(track["x"] + track["width"] * 0.3, track["y"] + track["height"] / 2)
            wait_change(before, timeout=600)
            interactive = time.perf_counter() - t0
            steps = []
            slider.focus()
            for j in range(a.moves):  # one λ step (0.1) at a time with the arrow keys
                before = state()
                page.keyboard.press("ArrowLeft" if j % 2 else "ArrowRight")
                steps.append(wait_change(before))
            before = state()
            page.locator(".widget-toggle-button").nth(1).click()
            switch = wait_change(before)
            page.screenshot(path=str(out / "panel_after.png"))
            clipped = page.evaluate("""() => [...document.querySelectorAll('.widget-toggle-button')]
                .filter(b => b.scrollWidth > b.clientWidth + 1).length""")
            browser.close()
        print(f"panel shown {shown:.1f} s after the page opened (progressive rendering)")
        print(f"panel interactive {interactive:.1f} s after the page opened (the notebook has run)")
        print("λ step → new output image: " + ", ".join(f"{s:.2f}" for s in steps) + " s")
        print(f"filter-set switch → new output image: {switch:.2f} s")
        print(f"toggle labels: {labels}; clipped labels: {clipped}")
        print(f"screenshots: {out / 'panel.png'}, {out / 'panel_after.png'}")
    finally:
        voila.terminate()
        voila.wait(10)


if __name__ == "__main__":
    main()
