"""The real dashboard with one fault injected: the render stage raises on every 10th call.

Served by the browser tests (`served_dashboard(..., script=...)`) to check what a user
sees when a stage fails mid-stream; the product code is untouched.
"""

import itertools
import runpy
from pathlib import Path

from focusr.render import Renderer

if not getattr(Renderer.render, "injected_fault", False):  # Panel runs this file per session
    calls = itertools.count()
    render = Renderer.render

    def flaky_render(self, *args, **kwargs):
        if next(calls) % 10 == 9:
            raise RuntimeError("injected fault in render")
        return render(self, *args, **kwargs)

    flaky_render.injected_fault = True
    Renderer.render = flaky_render

runpy.run_path(str(Path(__file__).resolve().parents[2] / "dashboard.py"), run_name="__main__")
