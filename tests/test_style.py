"""Colours written once reach the overlays, the plots and the CSS alike."""

from focusr import overlay, style
from focusr.types import TrackState


def test_overlays_draw_in_the_colours_the_page_uses():
    assert style.bgr("#50dc50") == (80, 220, 80)
    for state, colour in style.STATE_COLOURS.items():
        assert overlay.STATE_COLOURS[state] == style.bgr(colour)
    assert overlay.GREEN == style.bgr(style.STATE_COLOURS[TrackState.LOCKED])
    assert overlay.AMBER == style.bgr(style.HOVER)


def test_css_gets_every_state_colour_as_a_custom_property():
    css = style.css_variables()
    for state, colour in style.STATE_COLOURS.items():
        assert f"--focusr-{state.value}:{colour};" in css
    for name in ("camera.css", "app.css"):
        text = style.asset(name)
        assert "#50dc50" not in text and "var(--focusr-" in text  # no colour written twice
