"""The page `focusr serve` serves (Panel runs this file once per session; the checkout's
dashboard.py is the same two lines)."""

from focusr.app import page

page()
