"""The package is whole: a built wheel holds the page's JS and CSS and the served page, and
installs and serves on its own, away from this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

from browser import ROOT, free_port
from focusr.cli import SERVE_DEFAULTS, build_parser, serve_argv

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def unpacked_wheel(tmp_path_factory) -> Path:
    """The wheel, built without the network from a copy of this checkout's package files (a
    build writes build/ beside them), and unpacked as pip would."""
    out = tmp_path_factory.mktemp("wheel")
    source = out / "source"
    shutil.copytree(ROOT / "focusr", source / "focusr", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(out), str(source)], check=True, capture_output=True)
    (wheel,) = out.glob("focusr-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("focusr/assets/camera.js", "focusr/assets/camera.css", "focusr/assets/app.css",
                 "focusr/dashboard.py"):
        assert name in names, names
    # every module of the checkout's package, subpackages (focusr/look/) included
    modules = sorted(str(f.relative_to(ROOT)) for f in (ROOT / "focusr").rglob("*.py") if "__pycache__" not in f.parts)
    assert [m for m in modules if m not in names] == []
    site = out / "site"
    zipfile.ZipFile(wheel).extractall(site)
    return site


def run_installed(site: Path, *args, **kwargs):
    """Python with only the unpacked wheel's focusr importable (not the checkout's)."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *args], cwd=site.parent, env=env, capture_output=True, text=True,
                          **kwargs)


def test_the_installed_package_builds_its_page_from_its_own_assets(unpacked_wheel):
    code = ("import focusr, focusr.camera as c, focusr.render; v = c.CameraView();"
            "assert 'state.show' in v._scripts['output'] and 'S.encode' in v._scripts['render'];"
            "assert any('focusr-camera' in s for s in v._stylesheets); print(focusr.__file__)")
    done = run_installed(unpacked_wheel, "-c", code)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().startswith(str(unpacked_wheel))  # the wheel's copy, not the checkout's


def test_focusr_serve_help_explains_the_defaults(unpacked_wheel):
    done = run_installed(unpacked_wheel, "-m", "focusr.cli", "serve", "--help")
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    for says in ("127.0.0.1", "5006", "8 MB", "closed tab within a second", "panel serve --help",
                 "--allow-websocket-origin"):
        assert says in text, (says, text)


def test_serve_passes_safe_defaults_that_the_users_options_override():
    args, extra = build_parser().parse_known_args(["serve"])
    argv = serve_argv(args.address, args.port, extra)
    assert argv[:2] == ["panel", "serve"] and argv[2].endswith("focusr/dashboard.py")
    for key, value in SERVE_DEFAULTS.items():
        assert argv[argv.index(key) + 1] == value
    args, extra = build_parser().parse_known_args(
        ["serve", "--address", "0.0.0.0", "--allow-websocket-origin=h:5006", "--check-unused-sessions", "500"])
    argv = serve_argv(args.address, args.port, extra)
    assert argv[argv.index("--address") + 1] == "0.0.0.0"
    assert "--allow-websocket-origin=h:5006" in argv
    assert argv.count("--check-unused-sessions") == 1 and argv[argv.index("--check-unused-sessions") + 1] == "500"


def test_the_installed_package_serves_the_dashboard(unpacked_wheel, person_weights, tmp_path):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(unpacked_wheel), "FOCUSR_DETECTOR": str(person_weights)}
    log = open(tmp_path / "serve.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "focusr.cli", "serve", "--port", str(port)],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline, page = time.time() + 90, ""
        while time.time() < deadline and not page:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/dashboard", timeout=30).read().decode()
            except OSError:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                time.sleep(0.5)
        assert "FOCUSR" in page and "bokeh" in page.lower()
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    text = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "server stopped:" in text  # shutdown says so in one line
