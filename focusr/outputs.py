"""The files a command writes: checked before anything is written, then written to hidden
temporary files beside their targets and renamed into place only when all are complete.

    outputs = Outputs({"INPUT": "in.mp4"}, {"-o": "out.mp4", "--masks": None})  # checks; refuses with InputError
    outputs.create()                  # .out.partial-XXXXXXXX.mp4 beside out.mp4: also proves the folder writable
    ... write to outputs.temp("-o") ...
    outputs.commit()                  # os.replace each into place; or
    outputs.discard()                 # remove the temporary files; the targets are as they were

A target that is a symlink is written through it: the file it points to is replaced and the
link is kept.
"""

from __future__ import annotations

import os
import signal
import stat
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from focusr.video import InputError

PARTIAL = ".partial-"  # in every temporary file's name: .NAME.partial-XXXXXXXX.EXT


@dataclass
class Target:
    option: str  # as the user typed it: "-o", "--masks", "--report"
    given: str  # the path as the user typed it
    path: Path  # the file that will be replaced: symlinks followed
    temp: Path | None = None

    @property
    def existed(self) -> bool:
        return self.path.exists()


def _same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths are one file: the same path through any symlinks, or hard links to
    one inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


def _describe(option: str, given: str) -> str:
    return f"{option} {given}" if option.startswith("-") else given


@contextmanager
def sigint_deferred():
    """Ctrl-C is ignored while the targets are being replaced or cleaned up, so that neither is
    left half done (a second Ctrl-C during cleanup would strand temporary files)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class Outputs:
    """The targets of one command, by option. `inputs` names the files that must never be
    overwritten; `targets` maps an option as typed to its path (None: not asked for);
    `suffixes` optionally lists the extensions an option accepts. Refusals are InputError."""

    def __init__(self, inputs: dict[str, str | os.PathLike], targets: dict[str, str | os.PathLike | None],
                 suffixes: dict[str, tuple[str, ...]] | None = None):
        suffixes = suffixes or {}
        self.targets: list[Target] = []
        for option, given in targets.items():
            if given is None or str(given) == "":
                continue
            for source in inputs.values():  # first: whatever else is wrong, this is what matters
                if _same_file(Path(str(given)).expanduser(), source):
                    raise InputError(f"{_describe(option, str(given))} is the input {source}: writing it would "
                                     f"destroy the input; choose another name")
            target = self._check(option, str(given), suffixes.get(option, ()))
            for other in self.targets:
                if _same_file(target.path, other.path):
                    raise InputError(f"{option} {target.given} and {other.option} {other.given} are the same file; "
                                     f"give each its own name")
            self.targets.append(target)

    @staticmethod
    def _check(option: str, given: str, suffixes: tuple[str, ...]) -> Target:
        what = _describe(option, given)
        if given.endswith(("/", os.sep)) or Path(given).expanduser().is_dir():
            raise InputError(f"{what}: is a folder; give a file name in it")
        path = Path(os.path.realpath(Path(given).expanduser()))
        if path.exists() and not path.is_file():
            raise InputError(f"{what}: exists and is not a regular file; give a file name")
        if suffixes and path.suffix.lower() not in suffixes:
            raise InputError(f"{what}: unsupported extension {path.suffix or '(none)'}; use one of "
                             + ", ".join(suffixes))
        folder = path.parent
        if not folder.exists():
            raise InputError(f"{what}: the folder {folder} does not exist")
        if not folder.is_dir():
            raise InputError(f"{what}: {folder} is not a folder")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise InputError(f"{what}: the folder {folder} is not writable")
        if path.exists() and not os.access(path, os.W_OK):
            raise InputError(f"{what}: the file exists and is read-only")
        return Target(option, given, path)

    def create(self) -> None:
        """Make the temporary files beside their targets: the proof that each folder takes a
        new file (a check by permissions alone misses read-only and special filesystems)."""
        umask = os.umask(0)
        os.umask(umask)
        for target in self.targets:
            suffix = target.path.suffix
            stem = target.path.name[: -len(suffix)] if suffix else target.path.name
            try:
                fd, name = tempfile.mkstemp(dir=target.path.parent, prefix=f".{stem}{PARTIAL}", suffix=suffix)
            except OSError as exc:
                self.discard()
                raise InputError(f"{_describe(target.option, target.given)}: cannot write in {target.path.parent} "
                                 f"({exc.strerror or exc})") from None
            target.temp = Path(name)
            try:
                mode = stat.S_IMODE(target.path.stat().st_mode) if target.existed else 0o666 & ~umask
                os.fchmod(fd, mode)  # the finished file gets the mode a plain write would have given it
            finally:
                os.close(fd)

    def target(self, option: str) -> Target | None:
        for target in self.targets:
            if target.option == option:
                return target
        return None

    def temp(self, option: str) -> Path | None:
        for target in self.targets:
            if target.option == option:
                return target.temp
        return None

    def commit(self) -> list[Target]:
        """Rename every temporary file onto its target; all of them, with Ctrl-C held off."""
        with sigint_deferred():
            done = []
            try:
                for target in self.targets:
                    os.replace(target.temp, target.path)
                    target.temp = None
                    done.append(target)
            except OSError:
                self.discard()
                raise
            return done

    def discard(self) -> str:
        """Remove the temporary files; a note for the user on what was (not) written."""
        with sigint_deferred():
            for target in self.targets:
                if target.temp is not None:
                    try:
                        target.temp.unlink()
                    except FileNotFoundError:
                        pass
                    target.temp = None
        return nothing_written([t.given for t in self.targets if t.existed])


def nothing_written(kept: list[str]) -> str:
    """The note for a command stopped before its renames: `kept`, the targets that exist, are as
    they were."""
    if not kept:
        return "nothing was written"
    return "nothing was written; " + ", ".join(kept) + (" is left as it was" if len(kept) == 1
                                                         else " are left as they were")
