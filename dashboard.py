"""FOCUSR dashboard: `panel serve dashboard.py`."""

import panel as pn

from focusr.pipeline import FocusPipeline

pn.extension()

pipeline = FocusPipeline()
pn.template.FastListTemplate(
    title="FOCUSR",
    sidebar=[pn.Param(pipeline.renderer, parameters=["blur_strength", "focus_falloff"])],
    main=[pn.pane.Markdown("The live camera view arrives with the dashboard issue.")],
).servable()
