"""The `focusr` command's entry point: the console script (pyproject.toml's [project.scripts]),
`python -m focusr` (and `python -m focusr.cli`).

Ctrl-C at any moment ends the command with one line on stderr and status 130, never Python's
traceback, and leaves the user's files as they were. That takes more than catching
KeyboardInterrupt around the command:

- The command's modules take a fraction of a second to import (NumPy, OpenCV; the models'
  PyTorch and MediaPipe seconds more, later). This module and the package's __init__ import
  nothing but the standard library's start-up modules, so Ctrl-C is taken from the first moment.
- A KeyboardInterrupt does not always arrive: raised inside a weakref callback or a __del__
  (importlib runs one on every import) Python prints it and drops it; raised inside an
  extension module's import it can come out as an ImportError. So main installs its own SIGINT
  handler, which notes that Ctrl-C came before raising: ctrl_c() says so whatever became of the
  exception. An error after it is an interrupt; a dropped one is not printed, and is raised
  again where the command checks (check_ctrl_c): after the imports, before a command runs, at
  each frame of a render and before it puts its files in place.
"""

import sys

# The signal module is _signal (built in) plus enums that take milliseconds to make: a window
# in which Ctrl-C would still be Python's traceback. Everything needed here is in _signal.
import _signal as signal

# `python -m focusr` runs this file as __main__; `from focusr.__main__ import ctrl_c` elsewhere must
# find this module (and its state), not run the file again as another.
sys.modules.setdefault("focusr.__main__", sys.modules[__name__])

EXIT_INTERRUPTED = 130  # cli.EXIT_INTERRUPTED, which may not be imported yet when it is needed
_came = False  # Ctrl-C came, since main installed its handler


def ctrl_c() -> bool:
    """Whether Ctrl-C came (under main), whatever became of its KeyboardInterrupt."""
    return _came


def check_ctrl_c() -> None:
    """Raise KeyboardInterrupt if Ctrl-C came and its own was lost on the way."""
    if _came:
        raise KeyboardInterrupt


def _on_ctrl_c(signum, frame):
    global _came
    _came = True
    raise KeyboardInterrupt


def main(argv=None) -> int:
    """Run the command (cli.main) on `argv` (default: sys.argv[1:]), as the process's entry
    point: after Ctrl-C the process ends with its one line and status 130 (a second Ctrl-C is
    ignored)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where Ctrl-C is ignored
        signal.signal(signal.SIGINT, _on_ctrl_c)
        sys.unraisablehook = _ctrl_c_kept(sys.unraisablehook)
    try:
        from focusr.cli import main as command  # the heavy imports start here

        check_ctrl_c()
        status = command(argv)
    except BaseException as exc:
        if not (isinstance(exc, KeyboardInterrupt) or _came):
            raise
        _ignore_ctrl_c()
        args = sys.argv[1:] if argv is None else list(argv)
        render = next((a for a in args if not a.startswith("-")), None) == "render"
        print("focusr: interrupted" + (": nothing was written" if render else ""), file=sys.stderr)
        status = EXIT_INTERRUPTED
    if status == EXIT_INTERRUPTED:
        _ignore_ctrl_c()
        # CPython remembers a KeyboardInterrupt that left any exec() or eval() of a string (every
        # dataclass and namedtuple is made so, in most imports), caught or not, and under
        # `python -m` ends the process by SIGINT at exit in place of its status. Each exec() of
        # a string starts by forgetting it.
        exec("")
    return status


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ctrl_c_kept(previous):
    """An unraisablehook: a KeyboardInterrupt that Python would print with a traceback and drop
    (raised in a weakref callback or a __del__) is not printed; Ctrl-C is noted, and the next
    check_ctrl_c raises it. (Raising it again from here would only be dropped in turn: a hook's
    own exceptions are.) Anything else goes to the hook before."""

    def hook(unraisable):
        global _came
        if unraisable.exc_type is not None and issubclass(unraisable.exc_type, KeyboardInterrupt):
            _came = True
            return
        previous(unraisable)

    return hook


if __name__ == "__main__":
    sys.exit(main())
