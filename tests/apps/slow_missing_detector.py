"""The real dashboard on a machine where the detector fails slowly, as on one that is online:
there ultralytics tries the download and gives up after about 2.4 s. Here the same wait comes
before the offline refusal, so the page must say 'reduced mode' however long the failure took."""

import runpy
import time
from pathlib import Path

from focusr import models

if not getattr(models.load_yolo, "slow", False):  # Panel runs this file per session
    load_yolo = models.load_yolo

    def slow_load_yolo(choice):
        time.sleep(2.5)
        return load_yolo(choice)

    slow_load_yolo.slow = True
    models.load_yolo = slow_load_yolo

runpy.run_path(str(Path(__file__).resolve().parents[2] / "dashboard.py"), run_name="__main__")
