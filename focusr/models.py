"""Finding, fetching and loading the two models, once per process.

Users get the official weights on first use; tests and offline machines point
FOCUSR_DETECTOR / FOCUSR_SEGMENTER (or the matching parameters) at local files.
FOCUSR_OFFLINE=1 forbids every download (an air-gapped machine, and every test, so
that no outcome depends on whether the machine can reach the internet). When a model
cannot be had, `ModelUnavailable` says which file, where we looked and how to provide
it, and the pipeline carries on without that model.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import urllib.request
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_DETECTOR = "yolov8n-seg.pt"
DEFAULT_SEGMENTER = "selfie_segmenter.tflite"
DOWNLOAD_CHUNK = 1 << 16  # bytes read at a time while a model downloads (its progress moves with each)
SEGMENTER_URL = (
    "https://storage.googleapis.com/mediapipe-models/image_segmenter/"
    "selfie_segmenter/float16/1/selfie_segmenter.tflite"
)
# Official detector weights come from ultralytics' own release assets (the release the installed
# ultralytics would fetch): <this>/<release>/<name>. A mirror may stand in for it.
DETECTOR_RELEASES = os.environ.get("FOCUSR_DETECTOR_RELEASES",
                                   "https://github.com/ultralytics/assets/releases/download")
# The depth model (issue 16's focus plane): MiDaS v2.1 small, ONNX, from its authors' release;
# relative inverse depth at 256x256. Opt-in (the Depth cue control); FOCUSR_DEPTH names another.
DEFAULT_DEPTH = "midas_v21_small_256.onnx"
DEPTH_URL = "https://github.com/isl-org/MiDaS/releases/download/v2_1/model-small.onnx"
# Optional pin for the downloaded file (hex sha256). Without it the first download's
# hash is recorded beside the file and every later load is checked against it.
SEGMENTER_SHA256 = os.environ.get("FOCUSR_SEGMENTER_SHA256", "")


class ModelUnavailable(RuntimeError):
    """A model file could not be found, fetched or loaded: `reason` in a few words (the page's
    Models section), `fix` how to provide it (paths, URLs, variables); the message is both."""

    def __init__(self, reason: str, fix: str = ""):
        super().__init__(f"{reason}. {fix}" if fix else reason)
        self.reason, self.fix = reason, fix


def offline() -> bool:
    """Whether downloads are forbidden (FOCUSR_OFFLINE=1). Read at each use, so a test or a
    launcher can set it after import."""
    return os.environ.get("FOCUSR_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def parse_labels(text: str) -> list[str]:
    """'person, Normal' -> ['person', 'Normal']: how FOCUSR_PERSON_LABELS and --person-labels are read."""
    return [s.strip() for s in str(text).split(",") if s.strip()]


def person_labels() -> list[str]:
    """The detector classes this server treats as people (FOCUSR_PERSON_LABELS, default 'person')."""
    return parse_labels(os.environ.get("FOCUSR_PERSON_LABELS", "")) or ["person"]


def cache_dir() -> Path:
    root = os.environ.get("FOCUSR_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "focusr"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


def detector_choice(explicit: str = "") -> str:
    return explicit or os.environ.get("FOCUSR_DETECTOR", "") or DEFAULT_DETECTOR


# A model built from a .yaml has random weights: the same network at the same cost as the
# trained one, but it scatters hundreds of meaningless boxes. Benchmarks use one to time the
# default model offline; this score floor keeps the cost and drops the noise.
UNTRAINED_CONFIDENCE = 0.95


def untrained(choice: str) -> bool:
    return str(choice).lower().endswith((".yaml", ".yml"))


def detector_options() -> dict[str, str]:
    """The detectors a page may pick from: the server's own choice and the official sizes.
    A fixed list, so a client can never name a path."""
    configured = detector_choice()
    options = {f"{Path(configured).name} (server default)": configured}
    for name in ("yolov8n-seg.pt", "yolov8s-seg.pt", "yolov8m-seg.pt"):
        if name != configured:
            options[name] = name
    return options


def segmenter_choice(explicit: str = "") -> str:
    return explicit or os.environ.get("FOCUSR_SEGMENTER", "") or DEFAULT_SEGMENTER


def depth_choice(explicit: str = "") -> str:
    return explicit or os.environ.get("FOCUSR_DEPTH", "") or DEFAULT_DEPTH


_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}


def _once(kind: str, key: str, load):
    """Process-wide cache: every session shares one copy of each heavy model."""
    with _lock:
        if (kind, key) not in _models:
            _models[(kind, key)] = load()
        return _models[(kind, key)]


def load_yolo(choice: str):
    """An ultralytics YOLO model from a path, an official name (downloaded) or a .yaml."""
    path = Path(choice).expanduser()
    official = False
    if path.suffix in (".yaml", ".yml") or path.exists():
        target = str(path)
    elif path.parent == Path("."):
        target = str(cache_dir() / path.name)  # official names are downloaded here on first use
        official = not Path(target).exists()
        if offline() and not Path(target).exists():
            raise ModelUnavailable(
                f"detector weights {path.name} are not downloaded, and downloads are off (FOCUSR_OFFLINE)",
                f"Download {path.name} from https://github.com/ultralytics/assets/releases into {cache_dir()}, "
                f"or set FOCUSR_DETECTOR=/path/to/weights.pt"
            )
    else:
        raise ModelUnavailable(f"detector weights {choice} not found",
                               "Set FOCUSR_DETECTOR (or --weights) to an existing .pt file")

    def load():
        import cv2

        threads = cv2.getNumThreads()
        if offline():  # ultralytics probes the network at import unless told not to
            os.environ.setdefault("YOLO_OFFLINE", "1")
        from ultralytics import YOLO

        # ultralytics turns OpenCV's threading off at import (for its DataLoader); every
        # tracker and blur in this process would then run on one core
        cv2.setNumThreads(threads)
        url = detector_url(path.name) if official else None
        if url is not None:  # fetched here, not by ultralytics: the Models section shows its progress
            _download(url, Path(target), "detector weights", is_torch_file,
                      f"Download {url} into {cache_dir()}, or set FOCUSR_DETECTOR=/path/to/weights.pt")
        try:
            return YOLO(target)
        except Exception as exc:  # ultralytics raises many kinds when offline or corrupt
            raise ModelUnavailable(
                f"detector weights {path.name} could not be loaded from {target} ({reason(exc)})",
                f"Download {path.name} from https://github.com/ultralytics/assets/releases into "
                f"{cache_dir()}, or set FOCUSR_DETECTOR=/path/to/weights.pt"
            ) from exc

    return _once("yolo", target, load)


def is_ssd(choice: str) -> bool:
    """Whether a detector choice is an SSD frozen graph (`focusr.ssd`): chosen by file type."""
    return Path(choice).suffix.lower() == ".pb"


def load_detector(choice: str):
    """The detector a choice names, by file type: a `.pb` frozen graph is an SSD run by OpenCV's
    DNN module (`focusr.ssd`, its `.pbtxt` beside it), anything else ultralytics YOLO (`load_yolo`)."""
    if not is_ssd(choice):
        return load_yolo(choice)
    path = Path(choice).expanduser()
    fix = "Set FOCUSR_DETECTOR (or --weights) to an SSD frozen_inference_graph.pb with its .pbtxt beside it"
    if not path.is_file():
        raise ModelUnavailable(f"detector graph {choice} not found", fix)

    def load():
        from focusr import ssd

        config = ssd.text_graph(path)
        if config is None:
            raise ModelUnavailable(f"detector graph {path.name} has no .pbtxt text graph beside it", fix)
        try:
            return ssd.SsdModel(path, config)
        except Exception as exc:  # cv2.error: not a graph, or not this text graph's
            raise ModelUnavailable(f"detector graph {path.name} could not be loaded ({reason(exc)})", fix) from exc

    return _once("ssd", str(path.resolve()), load)


def segmenter_path(choice: str) -> Path:
    """The local .tflite for the person segmenter, downloading the official one on first use."""
    path = Path(choice).expanduser()
    if path.exists():
        return path
    if path.name != DEFAULT_SEGMENTER or path.parent != Path("."):
        raise ModelUnavailable(f"person segmenter {choice} not found",
                               "Set FOCUSR_SEGMENTER to an existing .tflite file")
    target = cache_dir() / DEFAULT_SEGMENTER
    with _lock:
        if not target.exists():
            _download(SEGMENTER_URL, target, "person segmenter", is_tflite,
                      f"Download {SEGMENTER_URL} into {target.parent}, or set FOCUSR_SEGMENTER=/path/to/model.tflite",
                      pin=SEGMENTER_SHA256)
        _verify(target)
    return target


def load_depth(choice: str):
    """An onnxruntime session for the depth model: a path, or the default name (downloaded into
    the model cache on first use, as the person segmenter is)."""
    path = Path(choice).expanduser()
    fix = f"Download {DEPTH_URL} into {cache_dir()} as {DEFAULT_DEPTH}, or set FOCUSR_DEPTH=/path/to/model.onnx"
    if not path.exists():
        if path.name != DEFAULT_DEPTH or path.parent != Path("."):
            raise ModelUnavailable(f"depth model {choice} not found", "Set FOCUSR_DEPTH to an existing .onnx file")
        path = cache_dir() / DEFAULT_DEPTH
        with _lock:
            if not path.exists():
                _download(DEPTH_URL, path, "depth model", is_onnx, fix)
            _verify(path, pin="")

    def load():
        try:
            import onnxruntime
        except ImportError as exc:
            raise ModelUnavailable("onnxruntime is not installed", "pip install onnxruntime") from exc
        try:
            return onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:  # not an ONNX graph, or one this runtime cannot run
            raise ModelUnavailable(f"depth model {path.name} could not be loaded ({reason(exc)})", fix) from exc

    return _once("depth", str(path.resolve()), load)


def detector_url(name: str) -> str | None:
    """Where the official detector weights `name` come from (the release the installed
    ultralytics itself would fetch); None for a name ultralytics does not publish."""
    import inspect

    from ultralytics.utils import downloads

    if name not in downloads.GITHUB_ASSETS_NAMES:
        return None
    release = inspect.signature(downloads.attempt_download_asset).parameters["release"].default
    return f"{DETECTOR_RELEASES.rstrip('/')}/{release}/{name}"


def is_tflite(data: bytes) -> bool:
    return len(data) >= 10_000 and data[4:8] == b"TFL3"


def is_onnx(data: bytes) -> bool:
    """An ONNX model is a protobuf whose first field is its IR version (field 1, a varint)."""
    return len(data) >= 100_000 and data[:1] == b"\x08"


def is_torch_file(data: bytes) -> bool:
    """A PyTorch checkpoint is a zip archive."""
    return len(data) >= 100_000 and data[:4] == b"PK\x03\x04"


_progress: dict[str, float] = {}  # file name -> share downloaded, while it downloads


def downloading(name: str) -> float | None:
    """How much of the model file `name` has come (0..1) while it downloads; None otherwise.
    The page's Models section shows it."""
    return _progress.get(Path(name).name)


def _fetch(url: str, name: str) -> bytes:
    """The file at `url`, in chunks, its progress kept for `downloading(name)`."""
    _progress[name] = 0.0
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            total = int(response.headers.get("Content-Length") or 0)
            chunks, got = [], 0
            while chunk := response.read(DOWNLOAD_CHUNK):
                chunks.append(chunk)
                got += len(chunk)
                if total:
                    _progress[name] = min(got / total, 1.0)
        return b"".join(chunks)
    finally:
        _progress.pop(name, None)


def _download(url: str, target: Path, what: str, valid, fix: str, pin: str = "") -> None:
    """`url` into `target` (whole or not at all), its progress shown meanwhile; `what` names
    the model in messages, `valid(data)` checks what came, `pin` is its expected sha256."""
    if offline():
        raise ModelUnavailable(f"{what} {target.name} is not downloaded, and downloads are off (FOCUSR_OFFLINE)", fix)
    try:
        data = _fetch(url, target.name)
    except Exception as exc:
        raise ModelUnavailable(
            f"{what} {target.name} is not downloaded, and downloading it failed ({reason(exc)})", fix) from exc
    if not valid(data):
        raise ModelUnavailable(f"the download from {url} is not {what} ({len(data)} bytes)", "Try again later")
    digest = hashlib.sha256(data).hexdigest()
    if pin and digest != pin:
        raise ModelUnavailable(f"{url} has sha256 {digest}, expected {pin}", "It is not used")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, target)
    target.with_suffix(".sha256").write_text(digest + "\n")


def _verify(target: Path, pin: str = SEGMENTER_SHA256) -> None:
    sidecar = target.with_suffix(".sha256")
    expected = pin or (sidecar.read_text().strip() if sidecar.exists() else "")
    if expected and hashlib.sha256(target.read_bytes()).hexdigest() != expected:
        raise ModelUnavailable(f"{target} is corrupt (sha256 mismatch)",
                               "Delete it and it will be downloaded again")


def reason(exc: BaseException) -> str:
    """An exception as one short line for a message: its first line, or its type if it has none."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text.lstrip("❌⚠️ ").strip()[:160]
