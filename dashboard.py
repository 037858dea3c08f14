"""FOCUSR dashboard: `panel serve dashboard.py` (or `bash scripts/serve`)."""

import logging

import panel as pn

from focusr.app import FocusrApp

if not logging.getLogger("focusr").handlers:  # once per process: Panel re-runs this file per session
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("focusr").addHandler(handler)
    logging.getLogger("focusr").setLevel(logging.INFO)

pn.extension(notifications=True)
pn.config.raw_css.append(".focusr-status{font:14px system-ui,sans-serif;padding:4px 2px}"
                         ".st-locked{color:#50dc50}.st-lost{color:#e63c3c}.st-reacquired{color:#f5b301}")

FocusrApp().servable()
