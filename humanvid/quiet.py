"""Keep native libraries (FFmpeg, TFLite, absl) from writing to the user's terminal."""

from __future__ import annotations

import ctypes
import os
import sys
from contextlib import contextmanager
from typing import Iterator

_LIBC = ctypes.CDLL(None)


@contextmanager
def native_stderr_silenced(enabled: bool = True, keep_python_stderr: bool = False) -> Iterator[None]:
    """Point file descriptor 2 at /dev/null while the block runs.

    With keep_python_stderr, Python's sys.stderr is re-opened on the real
    terminal for the duration, so the program's own messages still show.
    """
    if not enabled:
        yield
        return
    sys.stderr.flush()
    _LIBC.fflush(None)
    terminal = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    saved_stderr = sys.stderr
    if keep_python_stderr:
        sys.stderr = os.fdopen(terminal, "w", buffering=1, closefd=False)
    try:
        yield
    finally:
        sys.stderr.flush()
        _LIBC.fflush(None)  # C stdio may still hold lines meant for /dev/null
        sys.stderr = saved_stderr
        os.dup2(terminal, 2)
        os.close(terminal)
