"""The page as people see it (issue 12): on a laptop and on a phone, held up and on its side.

Geometry, not pixels: the video's share of the screen, the plots' data areas, nothing wider
than the screen, a status line that never moves the video, the sidebar out of the way on a
phone, and a tap that locks the walker tapped. Each test keeps screenshots in artifacts/.
"""

from __future__ import annotations

import time

import pytest

from browser import picture_point
from focusr.geometry import iou
from test_dashboard import Page, start_webcam

pytestmark = pytest.mark.timeout(600)

PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/17.0 Mobile/15E148 Safari/604.1")
SIZES = {"laptop": (1400, 900), "phone": (390, 844), "phone-landscape": (844, 390)}
PLOTS = ("focusr-plot-fps", "focusr-plot-latency", "focusr-plot-state")
MIN_PLOT_DATA_HEIGHT = 150  # px: the Bokeh frame, without title, axes and legend

DEEP_JS = """const deep = (selector, node = document) => {  // querySelector through shadow roots
  const hit = node.querySelector(selector)
  if (hit) return hit
  for (const el of node.querySelectorAll('*')) if (el.shadowRoot) { const h = deep(selector, el.shadowRoot); if (h) return h }
  return null
}"""
GEOMETRY_JS = """(root) => {
  DEEP
  const rect = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.width, r.height] }
  const canvas = root.querySelector('canvas.focusr-view')
  const statusBox = deep('.focusr-status')
  const sidebar = document.getElementById('sidebar')
  const main = document.getElementById('main')
  return {
    viewport: [innerWidth, innerHeight], canvas: rect(canvas), picture: root.focusr.picture(),
    frame: [canvas.width, canvas.height], status: statusBox ? rect(statusBox) : null,
    sidebar: sidebar ? rect(sidebar) : null, sidebarShown: !!(sidebar && sidebar.classList.contains('show')),
    main: rect(main), scrollWidth: document.documentElement.scrollWidth,
    mainOverflow: main.scrollWidth - main.clientWidth,
    plots: PLOTS.map((name) => { const m = Bokeh.documents[0].get_model_by_name(name); return m ? m.inner_height : null }),
  }
}"""


def open_at(chromium, server, size: str, name: str) -> Page:
    w, h = SIZES[size]
    phone = size != "laptop"
    context = chromium.new_context(viewport={"width": w, "height": h}, is_mobile=phone, has_touch=phone, color_scheme="dark",
                                   **({"user_agent": PHONE_AGENT, "device_scale_factor": 2} if phone else {}))
    return Page(context, server[0], f"{name}-{size}")


def geometry(tab: Page) -> dict:
    return tab.camera.evaluate(GEOMETRY_JS.replace("PLOTS", str(list(PLOTS))).replace("DEEP", DEEP_JS))


@pytest.mark.parametrize("size", list(SIZES))
def test_the_video_comes_first_and_nothing_leaves_the_screen(chromium, server, size):
    tab = open_at(chromium, server, size, "layout")
    try:
        start_webcam(tab)
        time.sleep(2)  # a few status updates and plot points
        g = geometry(tab)
        tab.shot("playing")
        vw, vh = g["viewport"]
        x, y, w, h = g["canvas"]
        pw, ph = g["frame"][0] * g["picture"]["scale"], g["frame"][1] * g["picture"]["scale"]  # the picture drawn
        assert g["scrollWidth"] <= vw and g["mainOverflow"] <= 1, g  # nothing wider than the screen
        assert g["status"] is not None and g["status"][1] < y, g  # the status line sits above the video
        if size == "laptop":
            assert g["sidebarShown"] and g["sidebar"][2] > 200, g  # the controls beside it
            assert pw * ph >= 0.4 * vw * vh, g  # the largest thing on the page
            assert g["status"][3] <= 26, g  # one line
        elif size == "phone":
            assert not g["sidebarShown"], g  # the controls wait in the drawer
            assert w >= 0.95 * (vw - 20) and pw >= 0.9 * vw, g  # the video fills the width
            assert y + h <= vh, g  # and is seen whole without scrolling
            assert g["status"][3] <= 48, g  # two lines at most
        else:
            assert not g["sidebarShown"], g
            assert y + ph <= vh + 1 and ph >= 0.6 * vh, g  # seen whole, and most of the height
            assert g["status"][3] <= 26, g
        assert all(p is not None and p >= MIN_PLOT_DATA_HEIGHT for p in g["plots"]), g["plots"]

        # a status line that grows (dropped frames, reduced mode) never moves the video
        tab.page.evaluate("""() => { DEEP
          const box = deep('.focusr-status')
          box.innerHTML = box.innerHTML + ' · <b>dropped</b> 12 · <b>reduced mode</b> · '.repeat(4) }""".replace("DEEP", DEEP_JS))
        assert geometry(tab)["canvas"][1] == pytest.approx(y, abs=0.5)

        if size != "laptop":  # the drawer opens over the page and closes again; the video stays put
            tab.page.locator("#sidebar-toggle").click()
            tab.wait("document.getElementById('sidebar').classList.contains('show')", what="drawer open")
            time.sleep(0.5)
            opened = geometry(tab)
            tab.shot("drawer")
            assert opened["canvas"] == pytest.approx(geometry(tab)["canvas"]) and opened["canvas"][2] == pytest.approx(w)
            assert opened["sidebar"][2] <= 0.9 * vw and opened["scrollWidth"] <= vw, opened
            tab.page.locator("#sidebar-toggle").click()
            tab.wait("!document.getElementById('sidebar').classList.contains('show')", what="drawer closed")
        else:  # the template's own toggle folds the sidebar away: the video takes the room
            tab.page.locator("#sidebar-toggle").click()
            tab.wait("!document.getElementById('sidebar').classList.contains('show')", what="sidebar folded")
            time.sleep(1.0)  # the template's transition, then the picture is drawn at its new size
            folded = geometry(tab)
            tab.shot("folded")
            fx, fy, fw, fh = folded["canvas"]
            scale = folded["picture"]["scale"]
            print(f"the video {w:.0f} px wide with the sidebar, {fw:.0f} px folded; the picture "
                  f"{pw:.0f} x {ph:.0f}, then {folded['frame'][0] * scale:.0f} x {folded['frame'][1] * scale:.0f}")
            assert fw >= w + 200 and folded["scrollWidth"] <= vw, folded  # the video takes the room
            # and the picture is as large as it fits: as wide or as tall as the video (a 4:3 camera
            # at 1400x900 is as tall as the screen allows already; a 16:9 one grows wider)
            assert max(folded["frame"][0] * scale / fw, folded["frame"][1] * scale / fh) >= 0.99, folded
            tab.page.locator("#sidebar-toggle").click()
            tab.wait("document.getElementById('sidebar').classList.contains('show')", what="sidebar back")
        assert not tab.errors, tab.errors
    finally:
        tab.close()


def paused_walkers(tab: Page, person_weights, clear) -> list:
    """Pause the phone's camera and find, with the real model, the walkers on the still frame
    that a tap can name: inside the picture, off the status, standing, and `clear(d, found)`
    of the others; the largest first."""
    from conftest import PERSON_LABELS
    from focusr.detect import Detector

    start_webcam(tab)
    time.sleep(1.0)
    tab.page.locator("button", has_text="Pause").tap()
    tab.wait("S.paused", what="paused")
    time.sleep(2.0)  # a look at the still frame (its own detections land meanwhile)
    frame = tab.frame()
    h, w = frame.shape[:2]
    found = Detector(weights=str(person_weights), person_labels=PERSON_LABELS).detect(frame)
    people = [d for d in found if d.box[0] > 4 and d.box[2] < w - 4 and d.box[1] > 40  # inside, off the status
              and d.box[3] - d.box[1] > 1.4 * (d.box[2] - d.box[0])  # standing: a walker
              and clear(d, found)]
    return sorted(people, key=lambda d: -d.area)


def tap_on(tab: Page, box) -> None:
    """A finger on the walker's upper body, where the picture is drawn."""
    x1, y1, x2, y2 = box
    tab.page.touchscreen.tap(*picture_point(tab.page, x1 + 0.5 * (x2 - x1), y1 + 0.35 * (y2 - y1)))


def test_a_tap_on_a_phone_locks_the_walker_tapped(chromium, server, person_weights):
    """Held up, touch only (no hover on a phone): paused, the user taps a walker the detector
    finds on that very frame; the lock is that walker."""
    from conftest import PERSON_LABELS

    tab = open_at(chromium, server, "phone", "tap")
    try:
        people = paused_walkers(tab, person_weights, lambda d, found: all(  # clear of others
            iou(d.box, o.box) < 0.05 for o in found if iou(d.box, o.box) < 0.6))
        assert people, "no walker clear of the others on the paused frame"
        target = people[0]
        tap_on(tab, target.box)
        tab.wait("root.dataset.state === 'locked'", what="locked by a tap")
        time.sleep(0.5)
        header = tab.js("S.last")
        tab.shot("tap-locked")
        assert header["label"] in PERSON_LABELS and iou(header["box"], target.box) >= 0.5, (header, target.box)
        assert not tab.errors, tab.errors
    finally:
        tab.close()


def test_a_phone_picks_what_a_tap_does_add_a_second_walker_then_drop_the_first(chromium, server, person_weights):
    """A phone has no Ctrl, Shift or Alt: the toolbar's picker says what a tap does (hidden where
    a mouse hovers). Paused, tap one walker (focus), pick "add or drop", tap a second: both
    kept, each the walker tapped; tap the first again: only the second is kept."""
    from conftest import PERSON_LABELS

    def grown(box, by: float = 0.3):
        x1, y1, x2, y2 = box
        dx, dy = by * (x2 - x1), by * (y2 - y1)
        return (x1 - dx, y1 - dy, x2 + dx, y2 + dy)

    def kept(n: int, what: str) -> list[dict]:
        tab.wait(f"(S.last.subjects || []).length === {n}", what=what)
        time.sleep(0.3)
        return tab.js("S.last.subjects")

    def who(subjects, walkers) -> bool:
        return all(s["label"] in PERSON_LABELS and iou(s["box"], d.box) >= 0.5 for s, d in zip(subjects, walkers))

    tab = open_at(chromium, server, "phone", "tap-modes")
    try:
        people = paused_walkers(tab, person_weights, lambda d, found: all(  # well clear of everyone
            iou(grown(d.box), o.box) == 0 for o in found if o is not d))
        assert len(people) >= 2, "no two walkers clear of the others on the paused frame"
        first, second = people[:2]
        picker = tab.page.locator("select.focusr-mode")
        assert picker.is_visible() and picker.input_value() == "lock"
        tap_on(tab, first.box)
        subjects = kept(1, "the first walker locked")
        assert who(subjects, [first]), (subjects, first.box)
        picker.select_option("toggle")
        tap_on(tab, second.box)
        subjects = kept(2, "the second walker added")
        assert who(subjects, [first, second]), (subjects, first.box, second.box)
        tab.shot("tap-added")
        tap_on(tab, first.box)
        subjects = kept(1, "the first walker dropped")
        assert who(subjects, [second]), (subjects, second.box)
        assert picker.input_value() == "toggle"  # it stays until changed
        assert not tab.errors, tab.errors
    finally:
        tab.close()
    laptop = open_at(chromium, server, "laptop", "no-tap-picker")
    try:
        assert not laptop.page.locator("select.focusr-mode").is_visible()  # a mouse has the keys
    finally:
        laptop.close()


def test_first_use_says_what_to_do_and_the_keys_are_one_key_away(chromium, server):
    """An empty page says what to do; a playing one how to choose a subject; "?" (key or button)
    shows the shortcuts and Esc closes them; each control carries its doc as a tooltip; every
    button and field has a name; keyboard focus shows."""
    from focusr.camera import KEYS

    tab = open_at(chromium, server, "laptop", "first-use")
    try:
        msg = tab.page.locator(".focusr-msg")
        assert "Choose Webcam" in msg.inner_text() and "click a subject" in msg.inner_text()
        start_webcam(tab)
        assert "Hover to see what can be focused" in msg.inner_text()
        tab.shot("hint")
        tab.camera.focus()
        tab.page.keyboard.press("?")
        keys = tab.page.locator(".focusr-keys")
        keys.wait_for(state="visible", timeout=5_000)
        text = keys.inner_text()
        assert all(key in text for key, _ in KEYS), text
        tab.shot("keys")
        tab.page.keyboard.press("Escape")
        keys.wait_for(state="hidden", timeout=5_000)
        assert tab.js("root.dataset.state") == "idle"  # that Escape closed the keys, nothing else
        tab.page.locator("button[aria-label='Keyboard shortcuts']").click()
        keys.wait_for(state="visible", timeout=5_000)
        tab.page.locator("button[aria-label='Keyboard shortcuts']").click()
        keys.wait_for(state="hidden", timeout=5_000)

        # every slider and checkbox in the sidebar has its doc as a tooltip beside it
        controls = tab.page.locator("#sidebar .noUi-target").count() + tab.page.locator("#sidebar .bk-Checkbox").count()
        tips = tab.page.locator("#sidebar .bk-TooltipIcon, #sidebar .bk-panel-models-widgets-TooltipIcon").count()
        assert controls >= 14 and tips >= controls, (controls, tips)
        # names: every button and input says what it is
        unnamed = tab.page.evaluate("""() => { DEEP
          const out = []
          const walk = (node) => { for (const el of node.querySelectorAll('button, input, select, [role=img]')) {
              if (el.type === 'checkbox') continue  // Bokeh's: checked through the accessibility tree below
              const name = (el.getAttribute('aria-label') || el.textContent || el.title || '').trim()
              const labelled = el.closest('label') || (el.id && node.querySelector(`label[for="${el.id}"]`))
              if (!name && !labelled && el.type !== 'hidden' && el.offsetParent !== null) out.push(el.outerHTML.slice(0, 80)) }
            for (const el of node.querySelectorAll('*')) if (el.shadowRoot) walk(el.shadowRoot) }
          walk(document); return out }""".replace("DEEP", DEEP_JS))
        assert not unnamed, unnamed
        time.sleep(3.5)  # the page names the sidebar's widgets as they are drawn
        for role in ("checkbox", "slider"):  # as the accessibility tree has them: each with its label
            found = tab.page.get_by_role(role)
            names = [found.nth(i).evaluate("e => e.getAttribute('aria-label') || e.textContent.trim()") for i in range(found.count())]
            assert names and all(names), (role, names)
        assert tab.page.get_by_role("checkbox", name="Overlays").count() == 1
        assert tab.page.get_by_role("slider", name="Blur strength (px)").count() == 1
        # keyboard focus is visible on the toolbar's buttons
        tab.page.locator("button", has_text="Webcam").focus()
        tab.page.keyboard.press("Tab")
        outline = tab.page.evaluate("""() => { DEEP
          let el = document.activeElement; while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement
          return getComputedStyle(el).outlineStyle + ' ' + getComputedStyle(el).outlineWidth }""".replace("DEEP", DEEP_JS))
        assert not outline.startswith("none"), outline
        assert not tab.errors, tab.errors
    finally:
        tab.close()


def test_the_page_follows_the_system_theme_unless_the_address_chooses(chromium, server):
    """With no ?theme the page follows the system's preference (a light system gets
    ?theme=default before anything is drawn); ?theme= chooses, and the header's link switches.
    The status line and plots stay legible (text darker than its background in light)."""
    for system, query, theme, link in (("dark", "", "dark", "Light"), ("light", "", "default", "Dark"),
                                       ("light", "?theme=dark", "dark", "Light"),
                                       ("dark", "?theme=default", "default", "Dark")):
        context = chromium.new_context(viewport={"width": 1400, "height": 900}, color_scheme=system)
        tab = Page(context, f"{server[0]}{query}", f"theme-{system}-system{query.replace('?', '-')}")
        try:
            start_webcam(tab)
            time.sleep(1)
            tab.shot("playing")
            chosen = tab.page.evaluate("new URL(location.href).searchParams.get('theme')")
            assert chosen == (theme if (query or system == "light") else None), (system, query, chosen)
            assert tab.page.locator("a.focusr-theme").inner_text().strip().endswith(link)
            colours = tab.page.evaluate("""() => { DEEP
              const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).map(Number); return 0.299 * r + 0.587 * g + 0.114 * b }
              const bg = getComputedStyle(document.getElementById('main')).backgroundColor
              const status = deep('.focusr-status')
              return [lum(bg), lum(getComputedStyle(status).color)] }""".replace("DEEP", DEEP_JS))
            background, text = colours
            if theme == "dark":
                assert background < 80 and text > 150, colours
            else:
                assert background > 200 and text < 100, colours
            assert not tab.errors, tab.errors
        finally:
            tab.close()


def test_a_phone_with_two_cameras_can_flip_between_front_and_back(chromium, server):
    """The device list is scripted (two cameras; Chromium's fake device is one): Flip shows
    with the camera running and asks for the other side (facingMode), and the picture goes on."""
    tab = open_at(chromium, server, "phone", "flip")
    try:
        tab.page.evaluate("""() => {
          const real = navigator.mediaDevices.enumerateDevices.bind(navigator.mediaDevices)
          navigator.mediaDevices.enumerateDevices = async () => [...await real(),
            {kind: 'videoinput', deviceId: 'back', label: 'Back camera', groupId: 'b'}]
          const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices)
          window.asked = []
          navigator.mediaDevices.getUserMedia = (c) => { window.asked.push(c.video.facingMode.ideal); return gum(c) }
        }""")
        flip = tab.page.get_by_role("button", name="Switch between the front and back camera")
        assert not flip.is_visible()  # no camera running yet
        start_webcam(tab)
        flip.wait_for(state="visible", timeout=10_000)
        seen = tab.displayed()
        flip.tap()
        tab.wait(f"S.counts.displayed > {seen} + 5", what="frames from the other camera")
        assert tab.page.evaluate("window.asked") == ["user", "environment"]
        tab.shot("flipped")
        assert not tab.errors, tab.errors
    finally:
        tab.close()
