"""Load: several browser sessions streaming at once against one server, figures printed.

    .venv/bin/python scripts/load_browser.py [--sessions 4] [--seconds 60] [--json]

One served dashboard on loopback, headless Chromium with a 640x480 fake webcam (vtest.avi),
N tabs, each streaming with a subject locked. Every few seconds one tab, in turn, flips a
sidebar control (Overlays) and the time until its displayed frames show the change is
measured. First each tab in turn, --click-rounds times, lets go and locks a walker as a user
would while the others stream: click-to-lock (median, p95; timed in the page) and the share of
clicks that locked the hovered walker are printed. Then, in the steady
state, each session's displayed fps, its longest wait between two replies, replies lost (the page
frees its one-frame slot after 2 s without one), how long the browser's camera itself gave the
page nothing (Chromium's fake webcam; no reply can come for a frame never captured), the control
changes, and the server's resident memory over the run and after the tabs close.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import (CHROMIUM, CHROMIUM_FLAGS, click_figures, hover_and_click, make_y4m, person_detector,  # noqa: E402
                     served_dashboard, frame_size, sweep_for_subject)

ASSETS = ROOT / ".cache" / "test-assets"

# Every interval between two replies reaching the page, per tab (a stall shows as one long interval),
# and every interval between two camera frames reaching the page: a reply cannot come for a frame
# the (fake) camera never delivered, so a wait is the server's only where the camera kept going.
WATCH_GAPS = """(() => {
  const watch = (name, into) => {  // every interval between two calls of S[name], into window[into]
    const gaps = window[into] = []
    let at = performance.now()
    const call = S[name]
    S[name] = (...args) => {
      const now = performance.now()
      gaps.push(now - at)
      at = now
      return call(...args)
    }
  }
  watch('show', 'focusrGaps')
  watch('onVideoFrame', 'focusrCameraGaps')
  return 0
})()"""

# Timed in the page, so the figure is the user's wait and not the benchmark's polling: from
# the click on the control to the first drawn frame whose status-overlay corner differs.
WATCH_CHANGE = """(() => {
  const ctx = root.querySelector('canvas').getContext('2d', {willReadFrequently: true})
  const corner = () => ctx.getImageData(0, 0, 260, 40).data
  const before = corner()
  const w = {clicked: null, seen: null, drawn: S.counts.displayed, live: true}
  w.onDown = () => { if (w.clicked === null) w.clicked = performance.now() }
  window.addEventListener('pointerdown', w.onDown, true)
  w.stop = () => { w.live = false; window.removeEventListener('pointerdown', w.onDown, true) }
  const check = () => {
    if (!w.live) return
    if (w.clicked !== null && S.counts.displayed !== w.drawn) {
      w.drawn = S.counts.displayed
      const now = corner()
      let diff = 0
      for (let i = 0; i < now.length; i += 4) diff += Math.abs(now[i] - before[i]) + Math.abs(now[i + 1] - before[i + 1])
      if (diff / (now.length / 2) > 10) { w.seen = (performance.now() - w.clicked) / 1000; w.stop(); return }
    }
    requestAnimationFrame(check)
  }
  requestAnimationFrame(check)
  window.focusrChange = w
  return 0
})()"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=4, choices=range(1, 9), metavar="1..8")
    ap.add_argument("--adaptive", choices=["on", "off"], default="off",
                    help="adaptive quality (focusr.quality; off by default, as served)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--click-rounds", type=int, default=3,
                    help="rounds of clicks before the steady state: each tab in turn locks a walker (default 3)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    y4m = make_y4m(ASSETS / "vtest.avi", ASSETS / "vtest_640x480_bounce.y4m", start=60, frames=300, bounce=True)
    env = {"FOCUSR_DETECTOR": str(ASSETS / "person_yolov8.pt"),
           "FOCUSR_SEGMENTER": str(ASSETS / "selfie_segmentation.tflite"), "FOCUSR_PERSON_LABELS": "Normal,Fall",
           "FOCUSR_ADAPTIVE": "1" if args.adaptive == "on" else "0"}
    log = ROOT / ".cache" / "load_browser_server.log"
    serve_args = ["--websocket-max-message-size", "8000000", "--check-unused-sessions", "1000",
                  "--unused-session-lifetime", "1000"]
    memory, clicks = [], []
    with served_dashboard(env, log, serve_args) as (url, proc), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=CHROMIUM_FLAGS + [f"--use-file-for-fake-video-capture={y4m}"])
        pages = []
        for _ in range(args.sessions):
            page = browser.new_page(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
            page.goto(url)
            page.locator(".focusr-camera").wait_for(timeout=90_000)
            page.locator("button", has_text="Webcam").click()
            pages.append(page)
        js = lambda page, expr: page.locator(".focusr-camera").evaluate(  # noqa: E731
            f"(root) => {{ const S = root.focusr; return {expr} }}")
        for page in pages:
            deadline = time.time() + 60
            while js(page, "S.counts.displayed") < 5 and time.time() < deadline:
                time.sleep(0.2)
        checker = person_detector(ASSETS / "person_yolov8.pt")  # who is locked a second after each click
        # the core gesture while the other tabs stream: each tab in turn lets go of its subject
        # and locks a walker as a user would, round after round (the last round stays locked)
        for k in range(args.click_rounds * len(pages)):
            page = pages[k % len(pages)]
            page.keyboard.press("Escape")
            deadline = time.time() + 10
            while js(page, "root.dataset.state") != "idle" and time.time() < deadline:
                time.sleep(0.05)
            got = hover_and_click(page, sweep_for_subject(k, frame_size(page)), timeout=30, detector=checker)
            if got:
                clicks.append(got)
        for page in pages:  # every tab answered since its click: from here on, the steady state
            seen = js(page, "S.counts.displayed")
            deadline = time.time() + 30
            while js(page, "S.counts.displayed") < seen + 3 and time.time() < deadline:
                time.sleep(0.1)
            js(page, WATCH_GAPS)
        memory.append(rss_mb(proc.pid))
        start = [js(p, "S.counts.displayed") for p in pages]
        t0 = time.time()
        changes, turn, next_change = [], 0, t0 + 3
        while time.time() - t0 < args.seconds:
            if time.time() >= next_change:
                page = pages[turn % len(pages)]
                js(page, WATCH_CHANGE)
                page.locator(".bk-Checkbox", has_text="Overlays").locator("input").click()
                seen = None
                deadline = time.time() + 10
                while seen is None and time.time() < deadline:
                    time.sleep(0.05)
                    seen = js(page, "window.focusrChange.seen")
                page.evaluate("() => window.focusrChange.stop()")
                changes.append(seen)
                turn += 1
                next_change = time.time() + 5
            memory.append(rss_mb(proc.pid))
            time.sleep(0.5)
        elapsed = time.time() - t0
        end = [js(p, "S.counts.displayed") for p in pages]
        gaps = [js(p, "window.focusrGaps.slice()") for p in pages]
        camera_gaps = [js(p, "window.focusrCameraGaps.slice()") for p in pages]
        lost = [js(p, "S.counts.lost") for p in pages]
        states = [js(p, "root.dataset.state") for p in pages]
        for page in pages:
            page.close()
        time.sleep(3.0)
        after_close = rss_mb(proc.pid)
        browser.close()
    fps = [round((e - s) / elapsed, 1) for s, e in zip(start, end)]
    seen = [c for c in changes if c is not None]
    result = {
        "sessions": args.sessions, "seconds": round(elapsed, 1),
        "displayed_fps_per_session": fps, "states_at_end": states,
        "clicks": click_figures(clicks) if clicks else None,
        "click_trials": clicks,
        "longest_wait_for_a_reply_s": [round(max(g) / 1000, 2) if g else None for g in gaps],
        "waits_over_1s": sum(sum(v > 1000 for v in g) for g in gaps), "replies_lost": lost,
        # the browser's own camera (Chromium's fake webcam) giving the page nothing for over 1 s
        "camera_stalls_over_1s": sum(sum(v > 1000 for v in g) for g in camera_gaps),
        "camera_stalled_s_per_session": [round(sum(v for v in g if v > 1000) / 1000, 1) for g in camera_gaps],
        "control_changes": len(changes), "control_changes_not_seen": len(changes) - len(seen),
        "control_change_max_s": round(max(seen), 2) if seen else None,
        "control_change_median_s": round(float(np.median(seen)), 2) if seen else None,
        "server_rss_start_mb": round(memory[0], 1), "server_rss_max_mb": round(max(memory), 1),
        "server_rss_end_mb": round(memory[-1], 1), "server_rss_after_tabs_closed_mb": round(after_close, 1),
        "machine": f"{platform.machine()} ({__import__('os').cpu_count()} cores)",
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k:>32}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
