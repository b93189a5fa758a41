"""End-to-end tests of the Solara pages in apps/, in Debian's headless Chromium via Playwright.

Each test serves one page with ``solara run apps/<name>.py --production`` on a free local
port, opens it with every request to a host other than 127.0.0.1 blocked and recorded (the
page must render from the installed solara-assets, with no CDN), and checks that it loads
without an error, that Step advances the step counter and changes a plot, and that changing
a control and pressing Reset rebuilds the model. Screenshots go to output/screenshots/ for a
person to look at; the time from a Step click until the page shows the new step is written
to output/screenshots/browser_timings.log (measured, not asserted).

Skipped, with the reason, only where Debian's chromium or Playwright is missing: ``.ci/run``
installs both.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "output" / "screenshots"
TIMINGS = SHOTS / "browser_timings.log"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)",
    ),
]
playwright_sync = pytest.importorskip(
    "playwright.sync_api", reason="playwright is not installed (pip install -e '.[dev]')"
)

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app: str):
    """Start ``solara run apps/<app>.py`` (``app=""``: all of ``apps``); yield its URL."""
    port = _free_port()
    env = {**os.environ, "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "false"}
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = f"apps/{app}.py" if app else "apps"
    log = (ROOT / "output" / f"solara_{app or 'all'}.log").open("w")
    cmd = [sys.executable, "-m", "solara", "run", target, "--production"]
    cmd += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 240
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"solara run {target} exited; see {log.name}")
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"solara run {target} did not answer in 240 s")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def browser():
    """One headless Debian chromium for the module."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    with playwright_sync.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def recsys_url():
    """The recommender page, served."""
    yield from _serve("recsys")


@pytest.fixture(scope="module")
def all_pages_url():
    """Every page of apps/, served together as tools/main.sh does."""
    yield from _serve("")


@pytest.fixture(scope="module")
def schelling_url():
    """The Schelling page, served."""
    yield from _serve("schelling")


class Watched:
    """A page whose problems are recorded: JS errors, HTTP errors, outside requests."""

    def __init__(self, browser, url: str) -> None:
        self.page = browser.new_page(viewport={"width": 1600, "height": 1100})
        self.errors: list[str] = []
        self.outside: list[str] = []
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))
        self.page.on(
            "response",
            lambda r: r.status >= 400 and self.errors.append(f"HTTP {r.status} {r.url}"),
        )
        self.page.route("**/*", self._route)
        self.page.set_default_timeout(60_000)
        self.page.goto(url)

    def _route(self, route) -> None:
        url = route.request.url
        host = url.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
        if url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def wait_rendered(self, images: int) -> None:
        """Wait for the Step button and ``images`` loaded plot images in the main area."""
        self.page.get_by_role("button", name="Step").wait_for()
        self.page.wait_for_function(
            """n => Array.from(document.querySelectorAll('.vue-grid-item img'))
                     .filter(i => i.complete && i.naturalWidth > 0).length >= n""",
            arg=images,
        )

    def plot_sources(self) -> list[str]:
        """The src of every plot image in the main area (matplotlib draws them as PNG)."""
        return self.page.eval_on_selector_all(
            ".vue-grid-item img", "els => els.map(e => e.getAttribute('src'))"
        )

    def time_text(self) -> str:
        """The sidebar's step counter ('Time: 3.0')."""
        return self.page.get_by_text("Time:").inner_text()

    def step(self, label: str) -> float:
        """Press Step; wait for the counter to advance and a plot to change; return seconds."""
        before_time, before_plots = self.time_text(), self.plot_sources()
        start = time.perf_counter()
        self.page.get_by_role("button", name="Step").click()
        self.page.wait_for_function(
            """([t, srcs]) => {
                 const time = Array.from(document.querySelectorAll('body *'))
                   .find(e => e.childElementCount === 0 && e.textContent.startsWith('Time:'));
                 const now = Array.from(document.querySelectorAll('.vue-grid-item img'))
                   .map(e => e.getAttribute('src'));
                 return time && time.textContent !== t
                   && now.some((s, i) => s !== srcs[i]);
               }""",
            arg=[before_time, before_plots],
        )
        seconds = time.perf_counter() - start
        with TIMINGS.open("a") as f:
            f.write(f"{label}: {before_time} -> {self.time_text()} in {seconds:.3f} s\n")
        print(f"{label}: step rendered in {seconds:.3f} s")
        return seconds

    def choose(self, select_label: str, option: str) -> None:
        """Pick ``option`` in the Vuetify select labelled ``select_label``."""
        self.page.locator(".v-select", has_text=select_label).click()
        menu = self.page.locator(".menuable__content__active")
        menu.locator(".v-list-item", has_text=option).first.click()
        menu.wait_for(state="hidden")

    def reset(self) -> None:
        """Press Reset and wait for the counter to read 0 again."""
        self.page.get_by_role("button", name="Reset").click()
        self.page.get_by_text("Time: 0").wait_for()

    def shot(self, name: str) -> Path:
        """A full-page screenshot under output/screenshots/."""
        path = SHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def assert_clean(self) -> None:
        """No JS or HTTP error, no error box, nothing fetched from outside."""
        body = self.page.inner_text("body")
        assert "Traceback" not in body, body[:2000]
        assert "error in step" not in body, body[:2000]
        assert not self.errors, self.errors
        assert not self.outside, f"requests to other hosts (no CDN allowed): {self.outside}"


def _pixels(locator) -> np.ndarray:
    """RGB pixels of an element's screenshot."""
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(locator.screenshot())).convert("RGB")).astype(int)


def _share_near(pixels: np.ndarray, rgb: str, tol: int = 40) -> float:
    """Share of pixels within ``tol`` (per channel) of the CSS colour ``rgb`` ('#1f77b4')."""
    target = np.array([int(rgb[i : i + 2], 16) for i in (1, 3, 5)])
    return float(np.all(np.abs(pixels - target) <= tol, axis=-1).mean())


def test_recsys_page(browser, recsys_url):
    """Loads clean; Step advances and redraws; a new recommender + Reset rebuilds the model."""
    w = Watched(browser, recsys_url)
    w.wait_rendered(images=3)
    assert w.time_text().strip() == "Time: 0.0"
    w.shot("recsys_loaded.png")
    w.assert_clean()

    w.step("recsys default (popularity, 200 users x 300 items), step 1")
    w.step("recsys default (popularity, 200 users x 300 items), step 2")
    assert w.time_text().strip() == "Time: 2.0"
    assert "PopularityRecommender" in w.page.inner_text(".agent-view")
    w.shot("recsys_stepped.png")

    # the metrics plot (first panel) is not empty: it has ink, and the blue of the lines
    plot = _pixels(w.page.locator(".vue-grid-item img").first)
    assert (plot.sum(axis=-1) < 600).mean() > 0.02, "metrics plot looks blank"
    assert _share_near(plot, "#1f77b4", tol=50) > 0.0005, "no metric line drawn"

    w.choose("Recommender", "content")
    w.reset()
    w.page.locator(".agent-view", has_text="ContentFiltering").wait_for()
    w.wait_rendered(images=3)
    w.step("recsys content filtering, step 1")
    assert w.time_text().strip() == "Time: 1.0"
    w.shot("recsys_content_after_reset.png")
    w.assert_clean()


def _assert_both_groups_on_grid(w: Watched) -> None:
    """The grid (the first grid item: the Grid component) shows both group colours."""
    grid = _pixels(w.page.locator(".vue-grid-item img").first)
    blue, orange = _share_near(grid, "#1f77b4"), _share_near(grid, "#ff7f0e")
    assert blue > 0.01, f"group 0 colour covers only {blue:.4f} of the grid image"
    assert orange > 0.01, f"group 1 colour covers only {orange:.4f} of the grid image"


def test_schelling_page(browser, schelling_url):
    """Loads clean; both groups on the grid; Step advances; policy 'similar' + Reset rebuilds."""
    w = Watched(browser, schelling_url)
    w.wait_rendered(images=3)
    assert w.time_text().strip() == "Time: 0.0"
    assert "policy: random" in w.page.inner_text("body")
    w.shot("schelling_loaded.png")
    w.assert_clean()

    _assert_both_groups_on_grid(w)

    w.step("schelling default (30x30, random policy), step 1")
    w.step("schelling default (30x30, random policy), step 2")
    assert w.time_text().strip() == "Time: 2.0"
    w.shot("schelling_stepped.png")
    # after a step the residents are drawn over the kept background: still both groups
    _assert_both_groups_on_grid(w)

    w.choose("Policy", "similar")
    w.reset()
    w.page.locator("b.policy", has_text="policy: similar").wait_for()
    w.wait_rendered(images=3)
    w.step("schelling similar policy, step 1")
    w.shot("schelling_similar_after_reset.png")
    w.assert_clean()


def test_pages_served_together_link_each_other(browser, all_pages_url):
    """``solara run apps`` (tools/main.sh): recsys at /, a tab leads to Schelling and back."""
    w = Watched(browser, all_pages_url)
    w.wait_rendered(images=3)
    assert "RecsysExplorer" not in w.page.title()
    w.page.locator(".agent-view", has_text="PopularityRecommender").wait_for()
    w.page.get_by_role("tab", name="Schelling").click()
    w.page.locator("b.policy", has_text="policy: random").wait_for()
    w.wait_rendered(images=3)
    w.step("all pages, Schelling tab, step 1")
    w.shot("all_pages_schelling_tab.png")
    w.page.get_by_role("tab", name="Home").click()
    w.page.locator(".agent-view", has_text="PopularityRecommender").wait_for()
    w.assert_clean()
