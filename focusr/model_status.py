"""What the page's Models section says: each model the session uses, loaded, loading or
missing, and for a missing one why (a few words), what that means for the user, and how to
fix it (the paths, URLs and variables, folded away). Read from the pipeline's stages by the
session's worker; the page only shows it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from focusr import models

LOADED, LOADING, MISSING = "loaded", "loading", "missing"

# What a missing model means for the user, in their words: written once, here.
MEANING = {
    "Detector": "Clicks still lock: the subject is grown from where you click. No hover boxes or labels.",
    "Person segmenter": "People are still cut out, with GrabCut: edges are rougher and it costs more.",
    "Depth model": "The blur follows distance from the subject in the picture, not depth.",
}


@dataclass(frozen=True)
class ModelStatus:
    name: str  # "Detector"
    file: str  # the weights' file name, as chosen
    state: str  # LOADED, LOADING or MISSING
    reason: str = ""  # missing: why, in a few words
    fix: str = ""  # missing: how to provide it (paths, URLs, variables)
    progress: float | None = None  # loading: the share downloaded, while it downloads (first use)

    @property
    def meaning(self) -> str:
        return MEANING.get(self.name, "") if self.state == MISSING else ""


def _status(name: str, choice: str, loaded: bool, failure: models.ModelUnavailable | None) -> ModelStatus:
    file = Path(choice).name
    if loaded:
        return ModelStatus(name, file, LOADED)
    if failure is not None:
        return ModelStatus(name, file, MISSING, failure.reason, failure.fix)
    return ModelStatus(name, file, LOADING, progress=models.downloading(file))


def statuses(pipeline) -> list[ModelStatus]:
    """The pipeline's models now (its worker's view: no model is loaded by asking)."""
    d, s, z = pipeline.detector, pipeline.segmenter, pipeline.depth
    return [
        _status("Detector", models.detector_choice(d.weights), d.loaded, d.failure),
        _status("Person segmenter", models.segmenter_choice(s.person_model), s.loaded, s.failure),
    ] + ([_status("Depth model", models.depth_choice(z.model), z.loaded, z.failure)] if z.use_depth else [])
