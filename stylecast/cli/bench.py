"""`stylecast bench` and its video, live and styles modes."""
from __future__ import annotations

import argparse
from pathlib import Path

from stylecast.cli import options
from stylecast.errors import StylecastError


def cmd_bench(args: argparse.Namespace) -> int:
    from stylecast.realtime import bench
    from stylecast.styles import default_style
    from stylecast.styles.mixes import StyleSpec, parse_style

    if getattr(args, "bench_what", None) == "styles":
        return _bench_styles(args)
    machine_line, machine = options.machine(args)
    spec = parse_style(args.model) if args.model else StyleSpec(default_style())
    model = spec.model  # a mix costs what its network costs: the backends are timed on the network
    if getattr(args, "bench_what", None) in ("video", "live"):
        if args.bench_what == "video":
            report = bench.bench_video(args.video, spec, args.backend, args.max_side, args.streams, args.stroke_scale)
        else:
            from stylecast.realtime.live.capture import parse_size

            report = bench.bench_live(args.source, args.model or str(model), args.backend, args.seconds, parse_size(args.size), args.fps, args.smooth,
                                      args.streams, stroke_scale=args.stroke_scale, work_size=args.work_size,
                                      governor=not args.no_governor, paint=args.paint)
        if args.json:
            options.print_json({**report, "machine": machine})
        else:
            print(machine_line)
            print("\n".join(f"{k:>20}: {v}" for k, v in report.items()))
        return 0
    names = bench.EVERY_BACKEND if args.backends == "all" else tuple(args.backends.split(","))
    sizes = bench.parse_sizes(args.sizes)
    timings = bench.bench_backends(model, names, sizes, args.runs, baseline=not args.no_baseline, progress=not args.json)
    if args.backends != "all" and all(t.baseline for t in timings):
        # every backend asked for was skipped (each said why above): an empty table is no measurement
        raise StylecastError(f"none of --backends {args.backends} could be timed here (see above why)")
    if not args.no_smoothing:
        timings += bench.bench_smoothing(sizes, runs=args.runs, photo=bench.style_picture(model))
    if not args.no_person:
        timings += bench.bench_person(sizes, runs=args.runs, photo=bench.style_picture(model))
    if args.json:
        options.print_json({"model": str(model), "machine": machine, "timings": [t.__dict__ for t in timings]})
    else:
        print(machine_line)
        print(f"model: {model}")
        print(bench.HEADER)
        for t in timings:
            print(t.row())
    return 0


def _bench_styles(args: argparse.Namespace) -> int:
    """`bench styles`: which styles keep up with a camera on this machine."""
    from stylecast.realtime import bench
    from stylecast.realtime.runtimes.backends import backend_preference
    from stylecast.realtime.live.capture import parse_size
    from stylecast.styles import bundled_styles
    from stylecast.styles.mixes import StyleSpec, parse_style

    # a style named twice is timed once: the table answers "which of these", not "how noisy"
    specs = [parse_style(s) for s in args.style or ()]
    models = list({(s.model.resolve(), tuple(sorted((s.mix or {}).items()))): s for s in specs}.values()) \
        if specs else [StyleSpec(s.model) for s in bundled_styles()]
    if not models:
        raise StylecastError("no bundled styles found: give -s MODEL.onnx")
    machine_line, machine = options.machine(args)
    speeds = bench.bench_styles(models, parse_size(args.size), backend_preference(args.backend), args.runs,
                                camera_fps=args.fps, progress=not args.json)
    if args.json:
        options.print_json({"size": args.size, "camera_fps": args.fps, "machine": machine, "styles": [s.__dict__ for s in speeds]})
    else:
        print(machine_line)
        print(f"each style from decoded frame to painted frame at {args.size}, with the backend {args.backend} picks "
              f"(no decoding, smoothing or display: 'stylecast bench live SOURCE --model STYLE' times the whole loop; "
              f"live paints HD cameras at a smaller working size, see 'stylecast live --help')")
        print(bench.style_header(args.fps))
        print("\n".join(s.row() for s in speeds))
    return 0


# What --backends takes besides the runtimes' own names: one OpenVINO precision, or PyTorch compiled.
_BENCH_VARIANTS = ("openvino:int8", "openvino:bf16", "openvino:f32", "torch:compile")


def _backend_list(text: str) -> str:
    """``all`` or a comma-separated list of known backend names: a typo is refused before any timing."""
    from stylecast.realtime.runtimes.backends import BACKEND_NAMES

    if text == "all":
        return text
    known = (*BACKEND_NAMES, *_BENCH_VARIANTS)
    for name in text.split(","):
        if name not in known:
            raise argparse.ArgumentTypeError(f"unknown backend {name!r}: choose from {', '.join(known)} (or all)")
    return text


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure speed per backend and frame size, end to end, or of every style",
                       description="Time the style network per backend and size against PyTorch eager fp32; "
                                   "'bench video' decodes, stylizes and encodes a real file, 'bench live' runs the live "
                                   "loop, and 'bench styles' times every bundled style to show which are live here.")
    p.add_argument("-s", "--style", "--model", dest="model", type=options.style_name, help="style name or .onnx, as -s everywhere else "
                                                                   "(--model is the old name; default: the first bundled style)")
    p.add_argument("--sizes", default="640x480,1280x720,1920x1080",
                   help="comma-separated WIDTHxHEIGHT list (default 640x480,1280x720,1920x1080; one size is quicker)")
    p.add_argument("--backends", default="all", type=_backend_list, help="comma-separated: cuda, torch, openvino, cpu, openvino:int8|bf16|f32 for one OpenVINO "
                                                         "precision, or torch:compile for PyTorch through TorchInductor "
                                                         "(compiles once per size first) (default: all that work, torch only "
                                                         "on a CUDA GPU, and OpenVINO bf16 beside its int8)")
    p.add_argument("--runs", type=options.positive_int, default=20, help="timed runs per measurement (default 20)")
    p.add_argument("--no-baseline", action="store_true", help="skip the PyTorch eager fp32 baseline")
    p.add_argument("--no-smoothing", action="store_true", help="skip timing the --smooth ema/flow cost per frame")
    p.add_argument("--no-person", action="store_true",
                   help="skip timing person segmentation and the whole --paint background mask path per frame")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--backend", choices=options.BACKEND_CHOICES, default="auto", help=argparse.SUPPRESS)
    p.add_argument("--max-side", type=options.positive_int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_bench)
    bench_sub = p.add_subparsers(dest="bench_what", metavar="[video IN | live SOURCE | styles]")
    v = bench_sub.add_parser("video", help="end-to-end fps on a real video, split into decode/stylize/encode",
                             description="Decode -> stylize -> encode a real file and report where the time goes.")
    v.add_argument("video", type=Path, metavar="IN", help="a video file")
    # SUPPRESS keeps values given before 'video' (stylecast bench --model X video IN) too.
    v.add_argument("-s", "--style", "--model", dest="model", type=options.style_name, default=argparse.SUPPRESS, help="style name or .onnx")
    v.add_argument("--backend", choices=options.BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--max-side", type=options.positive_int, default=argparse.SUPPRESS, metavar="N", help="downscale frames")
    v.add_argument("--streams", type=options.positive_int, metavar="N", help="frames stylized at once, as stylecast video --streams")
    options.add_stroke_scale(v)
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    v = bench_sub.add_parser("live", help="live-loop fps and capture-to-output latency from a camera or a looping file",
                             description="Run the live loop (no window) for --seconds and report fps and latency. "
                                         "A video file is played like a camera at --fps.")
    v.add_argument("source", metavar="SOURCE", help="camera index, /dev/videoN, URL or video file")
    v.add_argument("--seconds", type=options.positive, default=20.0, help="how long to run (default 20)")
    v.add_argument("--size", default="640x480", metavar="WxH",
                   help="frame size (default 640x480; a file of another shape is cropped at the centre, like a camera)")
    v.add_argument("--fps", type=options.positive, default=30.0, help="source frame rate (default 30, like a webcam)")
    v.add_argument("--smooth", choices=("off", "ema", "flow"), default="flow",
                   help="temporal smoothing, as stylecast live --smooth (default flow)")
    v.add_argument("--streams", type=options.positive_int, default=1, metavar="N", help="frames stylized at once, as stylecast live --streams")
    options.add_stroke_scale(v)
    options.add_paint(v)
    options.add_governor(v)
    v.add_argument("-s", "--style", "--model", dest="model", type=options.style_name, default=argparse.SUPPRESS, help="style name or .onnx")
    v.add_argument("--backend", choices=options.BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    v = bench_sub.add_parser("styles", help="every bundled style timed on this machine, fastest first: which ones are live here",
                             description="Time each bundled style (or each -s) from decoded frame to painted frame, with the "
                                         "backend stylecast live would pick, fastest first, and say which keep up with a "
                                         "camera at --fps. Pick a style for 'stylecast live' from the top of the list.")
    v.add_argument("-s", "--style", type=options.style_name, action="append", help="style name, .onnx or a mix (a=0.5,b=0.5); repeat for several (default: all bundled)")
    v.add_argument("--size", default="640x480", metavar="WxH", help="frame size (default 640x480)")
    v.add_argument("--fps", type=options.positive, default=30.0, help="camera rate a style must keep up with (default 30)")
    v.add_argument("--runs", type=options.positive_int, default=argparse.SUPPRESS, help="timed runs per style (default 20)")
    v.add_argument("--backend", choices=options.BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
