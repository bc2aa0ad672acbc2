"""The `stylecast` command: parses arguments and hands them to the library, nothing more. Each group
of commands registers its own parsers (media, live, bench, info, train)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
import warnings
from collections.abc import Sequence

from stylecast.errors import StylecastError


def build_parser() -> argparse.ArgumentParser:
    from stylecast.cli import bench, info, live, media, train

    parser = argparse.ArgumentParser(prog="stylecast", description="Real-time neural style transfer for images, video and webcams.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is chosen and why")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (media, live, info, bench, train):
        group.add_parsers(sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be, so the same clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


# Signals received, in order: a library may turn the KeyboardInterrupt raised inside its own C code
# into an error of its own (PyAV, muxing: "Invalid argument"), and the run must still end as interrupted.
_RECEIVED: list[int] = []


def _signals_like_ctrl_c() -> None:
    """``kill PID`` (a script) and a closed terminal end a run as Ctrl-C does: a video in progress
    leaves no hidden partial file, a live recording is finished and kept."""
    def interrupt(signum, _frame):
        _RECEIVED.append(signum)
        raise KeyboardInterrupt if signum == signal.SIGINT else Terminated(signum)

    # Ctrl-C only where Python would have handled it: a run started with it ignored (nohup, `cmd &`
    # in a script) keeps ignoring it.
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, interrupt)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)


def _interrupted(signum: int) -> int:
    print("stylecast: interrupted", file=sys.stderr)
    return 130 if signum == signal.SIGINT else 128 + signum


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _RECEIVED.clear()
    _signals_like_ctrl_c()
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    warnings.filterwarnings("ignore", module="torch.onnx")
    try:
        return args.func(args)
    except KeyboardInterrupt as e:
        code = _interrupted(e.signum if isinstance(e, Terminated) else signal.SIGINT)
    except BrokenPipeError:
        # the reader went away (`stylecast styles | head`): stop quietly, as a tool ended by SIGPIPE does;
        # stdout goes to devnull so the interpreter's final flush does not raise the same error again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        if not _RECEIVED:
            if isinstance(e, StylecastError):
                print(f"stylecast: error: {e}", file=sys.stderr)
                return 2
            raise
        code = _interrupted(_RECEIVED[0])  # the interrupt came back as another error (see _RECEIVED)
    return code


def run() -> None:
    """The ``stylecast`` command: ``main``, then its exit status. A run stopped by a signal has done
    its clean-up (outputs finished or removed, parts kept) by the time ``main`` returns, and exits
    without the interpreter's teardown: there, OpenVINO's threads sometimes abort the process
    ("terminate called without an active exception", SIGABRT) after two streams were stopped
    mid-frame (7 of 68 stops under load)."""
    code = main()
    if _RECEIVED:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    sys.exit(main())

