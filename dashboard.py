"""FOCUSR dashboard: `panel serve dashboard.py` (or `bash scripts/serve`)."""

import panel as pn

from focusr.app import FocusrApp

pn.extension(notifications=True)
pn.config.raw_css.append(".focusr-status{font:14px system-ui,sans-serif;padding:4px 2px}"
                         ".st-locked{color:#50dc50}.st-lost{color:#e63c3c}.st-reacquired{color:#f5b301}")

FocusrApp().servable()
