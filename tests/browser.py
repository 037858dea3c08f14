"""Helpers for end-to-end tests: a fake webcam from real footage, a served dashboard,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np

from focusr.geometry import gap, iou

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PERSON_LABELS = ["Normal", "Fall"]  # the offline person detector's two classes, both people
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream", "--autoplay-policy=no-user-gesture-required",
]


def make_y4m(source: Path, target: Path, size=(640, 480), start: int = 0, frames: int = 200,
             fps: float | None = None, repeat: int = 1, bounce: bool = False) -> Path:
    """A .y4m that Chromium plays as its fake webcam (looped), from frames of a real video.
    `fps` overrides the source's rate (Chromium delivers frames at the rate the file declares);
    `repeat` writes each frame that many times (10 fps footage as a real-time 30 fps camera);
    `bounce` plays it forward then backward, so the loop has no jump."""
    if target.exists():
        return target
    cap = cv2.VideoCapture(str(source))
    fps = fps or (cap.get(cv2.CAP_PROP_FPS) or 10) * repeat
    w, h = size
    yuvs = []
    i = 0
    while i < start + frames:
        ok, frame = cap.read()
        if not ok:
            break
        if i >= start:
            frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            yuvs.append(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
        i += 1
    cap.release()
    if bounce:
        yuvs = yuvs + yuvs[-2:0:-1]
    tmp = target.with_suffix(".part")
    with open(tmp, "wb") as out:
        out.write(f"YUV4MPEG2 W{w} H{h} F{int(round(fps))}:1 Ip A1:1 C420jpeg\n".encode())
        for yuv in yuvs:
            for _ in range(repeat):
                out.write(b"FRAME\n")
                out.write(yuv)
    os.replace(tmp, target)
    return target


def make_webm(source: Path, target: Path, frames: int = 300) -> Path:
    """A browser-playable VP8 copy of a video (box.mp4 itself has a damaged first frame
    that Chromium's decoder rejects, while FFmpeg tolerates it)."""
    if target.exists():
        return target
    cap = cv2.VideoCapture(str(source))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30
    tmp = target.with_name(target.stem + ".part.webm")
    writer = None
    for _ in range(frames):
        ok, frame = cap.read()
        if not ok:
            break
        if writer is None:
            writer = cv2.VideoWriter(str(tmp), cv2.VideoWriter_fourcc(*"VP80"), fps, (frame.shape[1], frame.shape[0]))
        writer.write(frame)
    writer.release()
    cap.release()
    os.replace(tmp, target)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served_dashboard(env: dict[str, str], log_path: Path, extra_args: list[str] | None = None,
                     script: Path = ROOT / "dashboard.py"):
    """`panel serve dashboard.py` (or another app script) on a free loopback port; yields the page's URL.
    Adaptive quality is off unless `env` turns it on (FOCUSR_ADAPTIVE=1), whatever the product's
    default: a test that aims at frame pixels gets the frame size it asked for, however slow the
    machine (tests/test_quality.py and test_app.py test the adaptation)."""
    env = {"FOCUSR_ADAPTIVE": "0", **env}
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "panel") if (ROOT / ".venv" / "bin" / "panel").exists()
           else sys.executable, *([] if (ROOT / ".venv" / "bin" / "panel").exists() else ["-m", "panel"]),
           "serve", str(script), "--port", str(port), "--address", "127.0.0.1",
           "--allow-websocket-origin", f"127.0.0.1:{port}", *(extra_args or [])]
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/{script.stem}"
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"panel serve exited: {log_path.read_text()[-2000:]}")
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


PICTURE_JS = """(c) => { const r = c.getBoundingClientRect(), st = getComputedStyle(c);
  return [r.left, r.top, r.width, r.height, c.width, c.height, st.objectFit] }"""


def picture_point(page, x: float, y: float, canvas: str = "canvas.focusr-view") -> tuple[float, float]:
    """Page coordinates of frame pixel (x, y) where the picture is drawn on screen, as a user
    would point at it. The canvas is shown with object-fit: contain, so a capped height or a
    fullscreen stage puts bars beside or above the picture: the element's box is not the
    picture's. The one helper the tests and scripts click through."""
    left, top, width, height, fw, fh, fit = page.locator(canvas).evaluate(PICTURE_JS)
    if fit == "contain":
        s = min(width / fw, height / fh)
        return left + (width - fw * s) / 2 + x * s, top + (height - fh * s) / 2 + y * s
    return left + x * width / fw, top + y * height / fh


def decode_png_url(url: str) -> np.ndarray:
    import base64

    return cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)


def canvas_image(page) -> np.ndarray:
    """The displayed frame, read back from the page's canvas (inside Panel's shadow DOM), as BGR."""
    return decode_png_url(page.locator("canvas.focusr-view").evaluate("(c) => c.toDataURL('image/png')"))


# Times a click in the page itself: from the click event to the first reply drawn with the lock
# (what the user sees), and keeps the reply before it, whose hover box is where the hovered
# subject was one frame before the lock.
CLICK_TIMER_JS = """(root) => { const S = root.focusr; if (S.clickTimer) return 0;
  S.clickTimer = {at: null};
  root.querySelector('canvas').addEventListener('click', () => {
    const now = performance.now()
    S.clickTimer = {at: now, locked: null, head: null, before: S.last,
      // where the round trip stood: the frame in flight and how long ago it went; then each reply
      // until the lock: [seq, ms after the click it was drawn, server_ms]
      inflight: S.inflight, sent_ago: Math.round(now - S.sentAt), trail: [], sends: []} }, true);
  const flush = S.flush;  // and each frame sent meanwhile: [seq, ms after the click]
  S.flush = () => { const before = S.sentAt; flush(); const c = S.clickTimer;
    if (c.at !== null && c.locked === null && S.sentAt !== before)
      c.sends.push([S.inflight, Math.round(S.sentAt - c.at)]) };
  const show = S.show;
  S.show = async (payload) => { await show(payload); const c = S.clickTimer, h = S.last;
    if (c.at === null || c.locked !== null || !h) return;
    c.trail.push([h.seq, Math.round(performance.now() - c.at), h.server_ms])
    if (h.state === 'locked' && h.box) {  // and the picture it was drawn on (the who-check runs the model on it)
      c.locked = performance.now(); c.head = h; c.image = root.querySelector('canvas').toDataURL('image/png')
    } else if (h.hover) c.before = h };
  return 0 }"""


def hover_and_click(page, candidates, fx: float = 0.3, fy: float = 0.35, timeout: float = 10.0,
                    detector=None, hold_s: float = 1.0) -> dict | None:
    """As a user: move the pointer over `candidates` (frame pixels) until an amber box shows, then
    click inside it off-centre (fx, fy of its width and height) where the picture is drawn, with
    nothing locked before. Returns what was hovered and what got locked, the click-to-lock time
    measured in the page (`page_ms`, click event to the locked frame drawn) and by this script
    (`wall_ms`), and whether the lock is the hovered subject (`match`: same label, IoU >= 0.5
    with the box clicked or with the hover box shown just before the lock, or, with a
    `detector`, the hovered walker carried to the lock's frame: `carried_match`). With a `detector`
    (focusr.detect.Detector, the real model), whether it is still on him `hold_s` later
    (`held`, `still_on_subject`). None: nothing to hover."""
    camera = page.locator(".focusr-camera")
    js = lambda expr: camera.evaluate(f"(root) => {{ const S = root.focusr; return {expr} }}")  # noqa: E731
    camera.evaluate(CLICK_TIMER_JS)
    hover = None
    for x, y in candidates:
        page.mouse.move(*picture_point(page, x, y))
        seen = js("S.counts.displayed")
        deadline = time.time() + 2
        while time.time() < deadline and js("S.counts.displayed") < seen + 3:
            time.sleep(0.03)
        head = js("S.last")
        if head and head.get("hover") and head.get("state") == "idle":
            hover, label = head["hover"], head["hover_label"]
            break
    if hover is None:
        return None
    cx, cy = hover[0] + fx * (hover[2] - hover[0]), hover[1] + fy * (hover[3] - hover[1])
    t0 = time.perf_counter()
    page.mouse.click(*picture_point(page, cx, cy))
    wall = None
    while time.perf_counter() - t0 < timeout:
        if js("S.clickTimer.locked !== null"):
            wall = (time.perf_counter() - t0) * 1000
            break
        time.sleep(0.005)
    timer = js("S.clickTimer")
    if wall is None:
        return {"hover": hover, "hover_label": label, "box": None, "label": None, "match": False}
    head, before = timer["head"], timer.get("before") or {}
    iou_clicked = iou(head["box"], hover)
    iou_before = iou(head["box"], before["hover"]) if before.get("hover") else 0.0
    got = {"hover": [round(v) for v in hover], "hover_label": label, "box": [round(v) for v in head["box"]],
           "label": head["label"], "page_ms": round(timer["locked"] - timer["at"]), "wall_ms": round(wall),
           "iou": round(max(iou_clicked, iou_before), 2), "iou_with_clicked_box": round(iou_clicked, 2),
           "match": head["label"] == label and max(iou_clicked, iou_before) >= 0.5,
           "trace": {k: timer.get(k) for k in ("inflight", "sent_ago", "sends", "trail")}}
    if detector is not None:
        if not got["match"] and head["label"] == label and timer.get("image"):
            got.update(carried_match(detector, decode_png_url(timer["image"]), hover, head["box"]))
        got.update(still_on_subject(page, detector, hold_s))
    return got


def carried_match(detector, frame: np.ndarray, hover, box) -> dict:
    """Whether the lock `box`, on the `frame` it was drawn on, is the walker hovered a few
    frames before (a walker moves 2-5 px a frame: a 36 px box drawn 3 frames later overlaps
    its earlier self by under 0.5): the real model's person on that frame that best overlaps
    the hovered box is the one that best overlaps the lock (IoU >= 0.5). Another walker
    nearer the old box would be the one the lock should have been."""
    people = [d.box for d in detector.detect(frame) if detector.is_person(d.label)]
    if not people:
        return {"carried_iou": 0.0}
    him = max(people, key=lambda d: iou(d, hover))
    locked = max(people, key=lambda d: iou(d, box))
    same = him is locked and iou(him, hover) >= 0.3 and iou(locked, box) >= 0.5
    return {"match": same, "carried_iou": round(iou(locked, box), 2), "hover_iou_now": round(iou(him, hover), 2)}


def person_detector(weights, person_labels=PERSON_LABELS):
    """The real model, in this process, for checking who the page has locked (still_on_subject)."""
    from focusr.detect import Detector

    return Detector(weights=str(weights), person_labels=list(person_labels))


SHOWN_JS = """(root) => { const S = root.focusr, c = root.querySelector('canvas');
  if (!S.last || S.shownSeq !== S.last.seq) return null;
  return [S.last, c.toDataURL('image/png')] }"""
LOOKS = 3  # frames the model looks at for the person under the lock box
ON_PERSON_IOU = 0.3  # the lock box's overlap with the model's box of a person: a walker beside another gets one box


def still_on_subject(page, detector, seconds: float = 1.0) -> dict:
    """Whether the lock is still on the subject `seconds` after it was made, as a user would
    see it: it stayed locked and it is on a person, the real model finding one in a frame drawn
    then (IoU >= ON_PERSON_IOU with the lock box, in one of LOOKS frames: the model misses a
    person now and then; the subject is sharp there). A lock left on the background (a walker
    passing a sign post) fails. Returns `held` and the figures behind it, with `held_step`: the
    largest move of the box's centre between two looks 50 ms apart, in box widths (a lock
    handed from the post to the walker who left it jumps; so would a swap to a neighbour)."""
    camera = page.locator(".focusr-camera")
    states, step, last = set(), 0.0, None
    end = time.time() + seconds
    while time.time() < end:
        head = camera.evaluate("(root) => root.focusr.last")
        states.add(head["state"])
        box = head.get("box")
        if box and last:
            step = max(step, gap(box, last) / max(last[2] - last[0], 1))
        last = box or last
        time.sleep(0.05)
    on_person, box = 0.0, None
    for _ in range(LOOKS):  # the model misses a person on some frames: the best of a few looks
        shown = None
        for _ in range(100):
            shown = camera.evaluate(SHOWN_JS)
            if shown:
                break
            time.sleep(0.01)
        if not shown:
            continue
        head, frame = shown[0], decode_png_url(shown[1])
        states.add(head["state"])
        box = head.get("box")
        people = [d.box for d in detector.detect(frame) if detector.is_person(d.label)]
        on_person = max(on_person, max((iou(box, d) for d in people), default=0.0) if box else 0.0)
        if on_person >= ON_PERSON_IOU:
            break
    held = box is not None and states <= {"locked", "reacquired"} and on_person >= ON_PERSON_IOU
    return {"held": held, "held_box": [round(v) for v in box] if box else None, "held_states": sorted(states),
            "held_step": round(step, 2), "held_iou": round(on_person, 2)}


SWEEP_BANDS = [(0.15, 0.45), (0.55, 0.95), (0.35, 0.65), (0.05, 0.35), (0.65, 0.95), (0.25, 0.75)]


FRAME_SIZE_JS = "(root) => { const c = root.querySelector('canvas'); return [c.width, c.height] }"


def frame_size(page) -> tuple[int, int]:
    """The size of the frames the page shows now (adaptive quality may have made them smaller)."""
    w, h = page.locator(".focusr-camera").evaluate(FRAME_SIZE_JS)
    return int(w), int(h)


def sweep_for_subject(k: int, size=(640, 480)) -> list[tuple[float, float]]:
    """Where the k-th of several clicks looks for a subject: a band of the picture's width (a
    different one each time, so the clicks land on different subjects), at the height of vtest's
    walkers; in pixels of frames of `size`."""
    lo, hi = SWEEP_BANDS[k % len(SWEEP_BANDS)]
    return [(size[0] * (lo + (hi - lo) * i / 8), size[1] * f) for f in (0.42, 0.5, 0.36, 0.56) for i in range(9)]


def click_figures(results: list[dict]) -> dict:
    """Median and p95 click-to-lock (page and script) and the share of locks on the hovered subject."""
    done = [r for r in results if r]
    def stats(key):  # noqa: E306
        v = sorted(r[key] for r in done if r.get(key) is not None)
        return {"median": v[len(v) // 2] if v else None, "p95": v[min(len(v) - 1, int(0.95 * len(v)))] if v else None}
    held = [r for r in done if "held" in r]
    return {"clicks": len(done), "matched": f"{sum(r['match'] for r in done)}/{len(done)}",
            "match_share": round(sum(r["match"] for r in done) / max(len(done), 1), 2),
            **({"held_1s": f"{sum(r['match'] and r['held'] for r in held)}/{len(held)}"} if held else {}),
            "page_ms": stats("page_ms"), "wall_ms": stats("wall_ms")}
