"""FOCUSR dashboard: `panel serve dashboard.py` in a checkout; `focusr serve` anywhere."""

from focusr.app import page

page()
