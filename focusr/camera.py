"""The browser side: a ReactiveHTML component that captures frames and pointer input and
shows the processed frames. Its JavaScript and CSS are files in the package's assets/."""

from __future__ import annotations

import param
from panel.reactive import ReactiveHTML

from focusr import style


# The shortcuts, written once: the page's "?" overlay and the sidebar's help both come from here.
KEYS = (
    ("Click / tap", "focus on a subject (hover first to see what can be focused)"),
    ("Ctrl-click", "keep another subject sharp too (Cmd-click on a Mac); on a kept one, let it go"),
    ("Shift-click", "add the region under the pointer to the nearest subject's cut-out"),
    ("Alt-click", "take the region under the pointer out of the nearest subject's cut-out"),
    ("Esc", "release the subject"),
    ("Space", "pause or play (paused, click, hover and controls still work)"),
    ("W", "webcam"),
    ("F", "fullscreen"),
    ("?", "show or hide these keys"),
)


# What a tap does on a touch screen, where there are no Ctrl, Shift or Alt keys: the same modes
# as those keys (types.CLICK_MODES), picked in the toolbar; it stays until changed.
TAP_MODES = (
    ("lock", "Tap: focus"),
    ("toggle", "Tap: add or drop"),
    ("include", "Tap: add to cut-out"),
    ("exclude", "Tap: cut away"),
)


def tap_modes_html() -> str:
    return "".join(f'<option value="{mode}">{label}</option>' for mode, label in TAP_MODES)


def keys_html() -> str:
    return "".join(f"<dt>{key}</dt><dd>{what}</dd>" for key, what in KEYS)


def keys_markdown() -> str:
    return "**Keys**: " + " · ".join(f"{key} {what.split(' (')[0]}" for key, what in KEYS)


class CameraView(ReactiveHTML):
    """Webcam or video file in, focused frames out, binary both ways, one frame in flight."""

    controls = {"Camera": ["capture_width", "jpeg_quality"]}

    frame = param.Bytes(default=None, doc="Latest captured frame: header + JPEG, from the browser.")
    output = param.Bytes(default=None, doc="Latest processed frame: header + JPEG, to the browser.")
    hover = param.List(default=[], doc="Pointer [x, y] in source-frame pixels; empty when outside.")
    click = param.Dict(default={}, doc="Last click {'x', 'y', 'n'}; n counts clicks.")
    release = param.Integer(default=0, doc="Counts Escape presses.")
    stats = param.Dict(default={}, doc="Browser-side figures, twice a second.")
    error = param.String(default="", doc="The last error the browser met, as 'stamp|message'.")
    last_key = param.String(default="", doc="The last shortcut handled, as 'key|stamp'.")
    source = param.Selector(default="none", objects=["none", "webcam", "file"], doc="What feeds the frames.")
    started = param.Integer(default=0, doc="Counts sources started: each starts fresh (no lock, no hover).")
    paused = param.Boolean(default=False, doc="Whether capture is paused (Space).")
    autostart = param.String(default="", doc="'webcam' to ask for the camera as soon as the page opens.")
    capture_width = param.Integer(default=640, bounds=(160, 1920), label="Capture width (px)",
                                  doc="Wider frames are scaled down to this before sending.")
    max_file_mb = param.Integer(
        default=4096, bounds=(1, 1 << 20),
        doc="Larger video files are refused with a message before the browser reads them (it plays files "
            "from the user's disk; nothing is uploaded).",
    )
    jpeg_quality = param.Number(default=0.8, bounds=(0.3, 0.95), label="JPEG quality",
                                doc="Quality of the frames sent up (0-1): lower sends less, blurs fine detail.")

    _template = """
<div id="root" class="focusr-camera" tabindex="0" aria-label="FOCUSR video: click a subject to focus it">
  <div class="focusr-toolbar">
    <button id="webcam_btn" class="focusr-btn" title="Webcam (W)">Webcam</button>
    <button id="flip_btn" class="focusr-btn" title="Switch between the front and back camera" aria-label="Switch between the front and back camera" style="display:none">⟲ Flip</button>
    <label id="open_btn" class="focusr-btn" tabindex="0" title="Open a video file (or drop one on the page)">Open video<input id="file_input" type="file" accept="video/mp4,video/webm,.mp4,.m4v,.webm" hidden aria-label="Open a video file"></input></label>
    <button id="play_btn" class="focusr-btn" title="Pause or play (Space)">Pause</button>
    <select id="tap_mode" class="focusr-btn focusr-mode" aria-label="What a tap does" title="What a tap does: focus on one subject, add one (or drop one kept), or fix the nearest one's cut-out" style="display:none">@TAP@</select>
    <input id="seek" type="range" min="0" max="1000" value="0" class="focusr-seek" style="display:none" aria-label="Position in the video"></input>
    <span id="counters" class="focusr-counters" aria-live="off"></span>
    <button id="keys_btn" class="focusr-btn focusr-round" title="Keys (?)" aria-label="Keyboard shortcuts" aria-expanded="false">?</button>
  </div>
  <div class="focusr-stage">
    <canvas id="screen" class="focusr-view" width="640" height="480" role="img" aria-label="The focused video: click or tap a subject to focus it"></canvas>
    <div id="msg" class="focusr-msg" role="status"></div>
    <div id="keys" class="focusr-keys" role="dialog" aria-label="Keyboard shortcuts" style="display:none"><dl>@KEYS@</dl><p>Press ? or Esc to close.</p></div>
    <div id="badge" class="focusr-badge" style="display:none"><b>Paused</b><span class="focusr-hint"> · click, hover and tune on this frame</span></div>
  </div>
  <video id="video" class="focusr-video" playsinline muted></video>
</div>
""".replace("@KEYS@", keys_html()).replace("@TAP@", tap_modes_html())
    # Panel debounces browser-side changes by 50 ms by default; a frame must not wait
    _debounce = 0
    _priority_changes = ["frame", "click", "release", "started"]

    _scripts = {
        "render": style.asset("camera.js") + "\n" + style.asset("a11y.js"),
        "output": "state.show(data.output)",
        "remove": "state.teardown()",
    }
    _stylesheets = [style.css_variables(), style.asset("camera.css")]
