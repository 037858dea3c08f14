"""Browser benchmark: the served dashboard in headless Chromium with a 640x480 fake webcam
(real 30 fps footage: box.mp4 from opencv-doc, looped), the box locked, figures printed.

    .venv/bin/python scripts/bench_browser.py [--seconds 20] [--json]

Prints displayed / processed frames per second, skipped frames, and median / p95
capture-to-display latency (from the browser drawing a frame to the browser showing
its processed version), browser and server on this one machine. With pedestrian footage it
then clicks --clicks walkers one after another as a user would and prints click-to-lock
(median, p95; measured in the page from the click to the locked frame drawn, and by this
script) and the share of clicks that locked the hovered walker.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import (CHROMIUM, CHROMIUM_FLAGS, click_figures, hover_and_click, make_y4m,  # noqa: E402
                     person_detector, picture_point, served_dashboard, frame_size, sweep_for_subject)

ASSETS = ROOT / ".cache" / "test-assets"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adaptive", choices=["on", "off"], default="off",
                    help="adaptive quality (focusr.quality; off by default, as served)")
    ap.add_argument("--seconds", type=float, default=20.0, help="measuring window after the lock (default 20)")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--weights", default=str(ASSETS / "person_yolov8.pt"),
                    help="detector: a .pt, or yolov8n-seg.yaml for the default model's size with random weights "
                         "(the box is locked without the detector)")
    ap.add_argument("--clicks", type=int, default=16,
                    help="then click this many subjects, one after another, as a user would: hover until a box "
                         "shows, click inside it off-centre (pedestrian footage; default 16)")
    ap.add_argument("--footage", choices=["box", "pedestrian"], default="box",
                    help="box: box.mp4 (30 fps), the box locked; pedestrian: vtest.avi as a real-time 30 fps "
                         "camera, a walker locked (default box)")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    if args.footage == "box":
        y4m = make_y4m(ASSETS / "box.mp4", ASSETS / "box_640x480_bounce.y4m", frames=300, bounce=True)
    else:
        y4m = make_y4m(ASSETS / "vtest.avi", ASSETS / "vtest_640x480_rt30_bounce.y4m", start=60, frames=100,
                       repeat=3, bounce=True)
    env = {"FOCUSR_DETECTOR": args.weights,
           "FOCUSR_SEGMENTER": str(ASSETS / "selfie_segmentation.tflite"), "FOCUSR_PERSON_LABELS": "Normal,Fall",
           "FOCUSR_ADAPTIVE": "1" if args.adaptive == "on" else "0"}
    log = ROOT / ".cache" / "bench_browser_server.log"
    seconds = args.seconds
    with served_dashboard(env, log) as (url, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM,
                                     args=CHROMIUM_FLAGS + [f"--use-file-for-fake-video-capture={y4m}"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, color_scheme="dark")
        page.goto(url)
        cam = page.locator(".focusr-camera")
        cam.wait_for(timeout=60_000)
        js = lambda expr: cam.evaluate(f"(root) => {{ const S = root.focusr; return {expr} }}")  # noqa: E731
        page.locator("button", has_text="Webcam").click()
        while js("S.counts.displayed") < 30:
            time.sleep(0.2)
        at = lambda x, y: picture_point(page, x, y)  # noqa: E731  where the picture is drawn
        locked = False
        if args.footage == "box":  # the box is yellow: click its middle, as a user would
            import base64

            import cv2
            import numpy as np
            from test_footage import yellow_box_truth

            png = base64.b64decode(js("root.querySelector('canvas').toDataURL('image/png')").split(",", 1)[1])
            ys, xs = np.nonzero(yellow_box_truth(cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)))
            page.mouse.click(*at(xs.mean(), ys.mean()))
            clicked = time.time()
            locked = True
        else:  # sweep like a user until something can be focused, then click it
            for y in (220, 200, 240, 180, 260, 300):
                for x in range(330, 620, 24):
                    page.mouse.move(*at(x, y))
                    time.sleep(0.15)
                    if js("root.dataset.hover"):
                        page.mouse.click(*at(x, y))
                        clicked = time.time()
                        locked = True
                        break
                if locked:
                    break
        click_to_lock = None
        while locked and time.time() - clicked < 10:
            if js("root.dataset.state") != "idle":
                click_to_lock = time.time() - clicked
                break
            time.sleep(0.01)
        time.sleep(2.0)
        page.screenshot(path=str(ROOT / ".cache" / f"bench_browser_{args.footage}.png"))
        start = js("({d: S.counts.displayed, s: S.counts.sent, c: S.counts.captured, k: S.counts.skipped, "
                   "n: S.latency.length})")
        js("(S.latency.length = 0, S.serverMs = [], S.diag = [], 0)")
        t0 = time.time()
        states = []
        while time.time() - t0 < seconds:
            time.sleep(0.5)
            states.append(js("root.dataset.state"))
        elapsed = time.time() - t0
        end = js("({d: S.counts.displayed, s: S.counts.sent, c: S.counts.captured, k: S.counts.skipped})")
        subject = js("root.dataset.box")  # the locked subject's box at the end, x1,y1,x2,y2
        lat = sorted(js("S.latency"))
        server = js("S.serverMs")  # the server's own time per frame (decode to encode)
        diag = js("S.diag")  # per frame: capture->sent, sent->reply, reply->drawn
        clicks = []
        if args.footage == "pedestrian":  # the core gesture, again and again, on different walkers
            checker = person_detector(args.weights)  # who is locked a second after the click
            for k in range(args.clicks):
                page.keyboard.press("Escape")
                deadline = time.time() + 5
                while js("root.dataset.state") != "idle" and time.time() < deadline:
                    time.sleep(0.05)
                got = hover_and_click(page, sweep_for_subject(k, frame_size(page)), detector=checker)
                if got:
                    clicks.append(got)  # the screenshot: as it was when checked, a second after the click
                    page.screenshot(path=str(ROOT / ".cache" / f"bench_browser_click_{k}.png"))
        browser.close()
    result = {
        "footage": args.footage,
        "detector": Path(args.weights).name,
        "machine": f"{platform.machine()} {platform.node()} ({__import__('os').cpu_count()} cores)",
        "seconds": round(elapsed, 1),
        "captured_fps": round((end["c"] - start["c"]) / elapsed, 1),
        "displayed_fps": round((end["d"] - start["d"]) / elapsed, 1),
        "skipped": end["k"] - start["k"],
        "latency_median_ms": round(statistics.median(lat), 1) if lat else None,
        "latency_p95_ms": round(lat[int(0.95 * (len(lat) - 1))], 1) if lat else None,
        "locked_share": round(sum(s in ("locked", "reacquired") for s in states) / max(len(states), 1), 2),
        "subject_locked": locked,
        "click_to_lock_shown_ms": round(click_to_lock * 1000) if click_to_lock is not None else None,
        "subject_box": [round(float(v)) for v in subject.split(",")] if subject else None,
        "server_ms_median": round(statistics.median(server), 1) if server else None,
        "sent_reply_drawn_ms": [round(statistics.median([d[i] for d in diag]), 1) for i in range(3)] if diag else None,
        "clicks": click_figures(clicks) if clicks else None,
        "click_trials": clicks,
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
