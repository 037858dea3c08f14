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

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
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
    """`panel serve dashboard.py` (or another app script) on a free loopback port; yields the page's URL."""
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
