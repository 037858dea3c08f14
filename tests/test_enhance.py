import numpy as np

from focusr.enhance import Enhancer
from synthetic import texture


def test_low_light_enhancement_lifts_a_dark_frame_and_is_off_by_default():
    dark = (texture((240, 320), 2, (60, 60, 60), spread=30.0) * 0.3).astype(np.uint8)
    assert Enhancer().enhance(dark) is dark
    lifted = Enhancer(enabled=True, strength=3.0).enhance(dark)
    assert lifted.mean() > dark.mean() * 1.3
    assert lifted.std() > dark.std() * 1.5  # more local contrast, not just brighter
