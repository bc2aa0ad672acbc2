"""`stylecast live`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stylecast.cli import options
from stylecast.errors import StylecastError
from stylecast.realtime.media.outputs import names_a_folder


def cmd_live(args: argparse.Namespace) -> int:
    from stylecast.realtime.live.config import LiveConfig
    from stylecast.realtime.live.loop import run_live
    from stylecast.realtime.live.capture import parse_size

    if args.record and names_a_folder(args.record):
        raise StylecastError(f"--record {args.record} is a folder: give the recording's file name, e.g. "
                             f"{Path(args.record) / 'live.mp4'}")
    sinks = list(args.sink or ("window",))
    if args.record and "file" not in sinks:  # --record alone was taken and silently not recorded
        sinks.append("file")
    # a sink named twice is the same sink (a second HTTP server would fail to bind the same port)
    config = LiveConfig(
        source=args.source, styles=tuple(args.style or ()), sinks=tuple(dict.fromkeys(sinks)), size=parse_size(args.size),
        backend=args.backend, smooth=args.smooth, strength=args.strength, keep_colors=args.keep_colors, host=args.host,
        port=args.port, token=args.token, record=Path(args.record) if args.record else None, loop=args.loop, duration=args.duration, stats=args.stats, source_fps=args.fps,
        streams=args.streams, stroke_scale=args.stroke_scale, work_size=args.work_size, governor=not args.no_governor,
        paint=args.paint,
    )
    stats = run_live(config)
    print(f"{stats.frames} frames, {stats.fps:.1f} fps, latency {stats.latency_ms:.0f} ms, {stats.dropped} dropped", file=sys.stderr)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("live", help="live webcam filter: window, virtual camera, HTTP stream for OBS, recording",
                       description="Stylize a camera (or a video file played in real time) into one or more sinks. "
                                   "Window hotkeys: n/p style, s smoothing, c colours, b paint all/background/person, "
                                   "o side by side, +/- strength, space snapshot, q quit.")
    p.add_argument("--source", default="0", help="camera index, /dev/videoN, stream URL or video file (default 0)")
    p.add_argument("-s", "--style", type=options.style_name, action="append", help="style name, .onnx, or a mix such as 'starry_night=0.6,the_scream=0.4'; repeat to cycle "
                                                       "(default: all bundled)")
    p.add_argument("--sink", action="append", choices=("window", "virtualcam", "http", "file"),
                   help="where frames go; repeat for several (default window)")
    p.add_argument("--size", metavar="WxH", help="requested capture size, e.g. 1280x720 (a file of another shape is cropped at the centre, like a camera)")
    p.add_argument("--smooth", choices=("off", "ema", "flow"), default="flow", help="temporal smoothing (default flow)")
    p.add_argument("--strength", type=options.strength, default=1.0, help="style strength 0-1 (blend with the original)")
    p.add_argument("--keep-colors", action="store_true", help="keep the camera's colours, transfer texture only")
    p.add_argument("--host", default="127.0.0.1", help="HTTP sink address (default 127.0.0.1; another address is reachable from the network, and then "
                        "every request needs the token printed at start)")
    p.add_argument("--port", type=options.port, default=8765, help="HTTP sink port (default 8765)")
    p.add_argument("--token", type=options.token,
                   help="HTTP sink: the token every request must carry, 8 or more letters, digits or . _ ~ - "
                        "(default: none on 127.0.0.1; with another --host a random one is made at start and "
                        "printed in the URL)")
    p.add_argument("--record", metavar="OUT.mp4", help="record what is painted into this file (.mp4, .mov, .mkv, .webm; the file sink, added to the others)")
    p.add_argument("--loop", action="store_true", help="loop a video-file source")
    p.add_argument("--fps", type=options.positive, help="camera: frame rate to request; video file: play at this rate instead of its own")
    p.add_argument("--duration", type=options.positive, metavar="SECONDS", help="stop after this long")
    p.add_argument("--stats", action="store_true", help="print fps and latency every 2 seconds")
    p.add_argument("--streams", type=options.positive_int, default=1, metavar="N",
                   help="frames stylized at once with OpenVINO (default 1; 2 gives more fps on 2+ cores, "
                        "at about one frame more latency)")
    options.add_stroke_scale(p)
    options.add_paint(p)
    options.add_governor(p)
    options.add_backend(p)
    p.set_defaults(func=cmd_live)
