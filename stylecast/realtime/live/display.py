"""Whether a preview window can open here, asked before OpenCV tries.

OpenCV's Qt build (the pip wheel) does not raise when there is no X server: Qt aborts the whole
process with a core dump. So on Linux we look for the display first and say what to do instead.
"""
from __future__ import annotations

import os
import socket
import sys

INSTEAD = ("use --sink http (then open http://127.0.0.1:8765/ in a browser or add it to OBS), "
           "--sink virtualcam, or --sink file --record OUT.mp4")


def opencv_gui() -> str:
    """OpenCV's window toolkit as its build information names it: QT5 for the pip wheel, GTK3 for Debian's."""
    import cv2

    for line in cv2.getBuildInformation().splitlines():
        key, _, value = line.strip().partition(":")
        if key == "GUI":
            return value.strip()
    return ""


def window_problem(env: dict[str, str] | None = None, platform: str = sys.platform, gui: str | None = None) -> str | None:
    """Why no window can open here, or None when one can (or when we cannot tell)."""
    if not platform.startswith("linux"):
        return None  # Windows and macOS draw windows without an X server
    env = os.environ if env is None else env
    display = env.get("DISPLAY", "")
    if not display:
        if not env.get("WAYLAND_DISPLAY"):
            return "no display to open a window on (DISPLAY is not set: an SSH session or a container?)"
        if (opencv_gui() if gui is None else gui).upper().startswith("QT"):
            # the wheel's Qt carries only the xcb (X) platform plugin
            return "this OpenCV draws windows through X only and DISPLAY is not set (start Xwayland)"
        return None  # a GTK build draws on Wayland itself
    if not x_server_answers(display):
        return f"the X display {display} does not answer"
    return None


def x_server_answers(display: str, timeout_s: float = 1.0) -> bool:
    """Connect to the X server named by ``display`` (``[host]:N[.screen]``) and hang up at once."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit() or "/" in host:
        return True  # a form we do not parse (e.g. XQuartz's socket path): let OpenCV try
    if host in ("", "unix"):
        # Xorg and Xwayland listen on a socket file and on the same name in the abstract namespace
        for address in (f"/tmp/.X11-unix/X{number}", f"\0/tmp/.X11-unix/X{number}"):
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.settimeout(timeout_s)
                    s.connect(address)
                return True
            except OSError:
                continue
        return False
    try:  # ssh -X forwards the display as localhost:10 and the like: TCP port 6000 + N
        with socket.create_connection((host, 6000 + int(number)), timeout=timeout_s):
            return True
    except OSError:
        return False
