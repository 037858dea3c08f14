"""A pane that knows whether it is on screen, so what it shows is only drawn while it is seen.

The live plots sit under the video, below the fold on a laptop; a Bokeh plot redrawn twice a
second costs the browser far more than the video itself does (four tabs on two cores: 1.4
frames a second each with the plots updating, 7.5 without). The browser tells the server,
with an IntersectionObserver and the page's visibility, whether the pane is in view; the
figures hold their points meanwhile and send them all at once when it comes back.
"""

from __future__ import annotations

import param
from panel.custom import Child, ReactiveHTML

from focusr import style


class InView(ReactiveHTML):
    """Shows `object`; `in_view` says whether any of it is on screen in a visible tab."""

    object = Child(allow_refs=False, doc="What is shown.")
    in_view = param.Boolean(default=True, doc="Whether any of it is on screen, in a tab that is shown (the "
                                              "browser says; until it has, it is taken to be).")

    _template = '<div id="pane" class="focusr-inview">${object}</div>'
    _scripts = {"render": style.asset("inview.js"), "remove": "state.teardown()"}
