"""`stylecast image` and `stylecast video`."""
from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from stylecast.cli import options
from stylecast.styles import STILL_DEFAULT


def cmd_image(args: argparse.Namespace) -> int:
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.images import stylize_images

    config = RunConfig(style=options.style_or_default(args), backend=args.backend, max_side=args.max_side, overwrite=args.overwrite,
                       skip_existing=args.skip_existing, stroke_scale=args.stroke_scale, paint=args.paint)
    with _resume_hint(args.inputs):
        choice, notes, unreadable = stylize_images(args.inputs, args.output, config, on_written=_say_written,
                                                   on_unreadable=_say_skipped,
                                                   show_progress=None)
    if choice is None:
        print(NOTHING_TO_DO, file=sys.stderr)
        return 0
    print(f"backend: {choice.describe()}", file=sys.stderr)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if unreadable:
        print(f"stylecast: error: {unreadable} input(s) could not be read and were skipped (named above); "
              f"everything else is painted", file=sys.stderr)
        return 2
    return 0


def _say_written(path: Path) -> None:
    """Each picture on stdout as soon as it is complete (scripts read them), above the progress bar."""
    from tqdm import tqdm

    tqdm.write(str(path), file=sys.stdout)
    sys.stdout.flush()


def _say_skipped(why: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"skipped: {why}", file=sys.stderr)


NOTHING_TO_DO = "nothing to paint: every output is there already (--skip-existing)"


@contextlib.contextmanager
def _resume_hint(inputs: list[Path]):
    """On Ctrl-C of a batch (several inputs, or a folder), say that finished outputs are kept and how
    to paint the rest."""
    try:
        yield
    except KeyboardInterrupt:
        if len(inputs) > 1 or any(p.is_dir() for p in inputs):
            print("note: the outputs finished so far are kept; the same command with --skip-existing paints the rest",
                  file=sys.stderr)
        raise


def cmd_video(args: argparse.Namespace) -> int:
    from stylecast.realtime.config import RunConfig
    from stylecast.realtime.video import VideoConfig, stylize_videos

    run = RunConfig(style=options.style_or_default(args), backend=args.backend, max_side=args.max_side, overwrite=args.overwrite,
                    skip_existing=args.skip_existing, stroke_scale=args.stroke_scale, paint=args.paint)
    config = VideoConfig(run=run, codec=args.codec, crf=args.crf, smooth=args.smooth, keep_partial=args.keep_partial,
                         streams=args.streams)
    with _resume_hint(args.inputs):
        if args.ray:
            describe, results = _on_ray(args, config)
            if describe is not None:
                print(f"backend on the workers: {describe}", file=sys.stderr)
            for r in results:
                _report(r)
        else:
            choice, results = stylize_videos(args.inputs, args.output, config, show_progress=not args.quiet,
                                             tell=lambda note: print(f"note: {note}", file=sys.stderr), on_done=_report)
            if choice is not None:
                print(f"backend: {choice.describe()}", file=sys.stderr)
    if not results:
        print(NOTHING_TO_DO, file=sys.stderr)
    return 0


def _on_ray(args: argparse.Namespace, config):
    from stylecast.cluster.connect import ClusterConfig
    from stylecast.cluster.run import stylize_videos_on_ray
    from stylecast.errors import StylecastError

    for flag, given in (("--streams", args.streams), ("--keep-partial", args.keep_partial)):
        if given:
            raise StylecastError(f"{flag} does not apply with --ray (each worker paints one frame at a time, "
                                 f"and an interrupted run keeps its painted segments for the next)")
    return stylize_videos_on_ray(args.inputs, args.output, config, ClusterConfig(args.ray, args.segment_seconds),
                                 show_progress=not args.quiet, tell=lambda note: print(f"note: {note}", file=sys.stderr))


def _report(r) -> None:
    """One finished video's line, and what the user should know of it."""
    t = r.times
    if r.segments and not t.frames:  # every segment painted by an earlier run: only joined now
        print(f"{r.output}: {r.frames} frames ({r.segments})")
    elif r.segments:
        print(f"{r.output}: {r.frames} frames, {t.fps:.1f} fps ({r.segments})")
    else:
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


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("image", help="stylize still images", description="Stylize one or more images with a trained style.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="image file(s), or folders of them (jpg, png, webp, bmp, tiff)")
    p.add_argument("-s", "--style", type=options.style_name, help="bundled style name (see 'stylecast styles'), path to an .onnx model, or a mix "
                                         f"such as 'starry_night=0.6,the_scream=0.4' (default: {STILL_DEFAULT})")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="output file, or folder for several inputs (a name ending in / is a folder, made if missing)")
    p.add_argument("--max-side", type=options.positive_int, metavar="N", help="shrink inputs whose longer side exceeds N pixels")
    options.add_existing(p)
    options.add_stroke_scale(p)
    options.add_paint(p)
    options.add_backend(p)
    p.set_defaults(func=cmd_image)
    p = sub.add_parser("video", help="stylize video files, keeping their sound",
                       description="Stylize a video file (or a folder of them); same length, frame rate, size and audio. "
                                   "A video over 2 minutes is painted in segments of about a minute, each kept "
                                   "beside the output as it finishes: stopped (Ctrl-C, a crash), the same command "
                                   "goes on from them.")
    p.add_argument("inputs", nargs="+", type=Path, metavar="IN", help="video file(s), or folders of them")
    p.add_argument("-s", "--style", type=options.style_name, help=f"bundled style name, path to an .onnx model, or a mix such as 'starry_night=0.6,the_scream=0.4' "
                                         f"(default: {STILL_DEFAULT}; "
                                         f"on a CPU {STILL_DEFAULT}_lite_rt paints the same picture about 2x faster)")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help=".mp4/.mkv/.mov/.webm file, or a folder (a name ending in / is a folder, made if missing)")
    p.add_argument("--max-side", type=options.positive_int, metavar="N", help="downscale frames whose longer side exceeds N")
    p.add_argument("--codec", choices=("h264", "vp9"), help="video codec (default: h264, vp9 for .webm)")
    p.add_argument("--crf", type=int, metavar="N", help="quality, lower is better (default 18 for h264, 31 for vp9; 0 with h264 is lossless, full-resolution colour)")
    options.add_existing(p)
    p.add_argument("--smooth", choices=("off", "ema", "flow"), default="off",
                   help="temporal smoothing: ema (cheap, ghosts on motion) or flow (motion-compensated, stops flicker). "
                        "Off by default here, where every frame is painted as it is (a still-like look, no blur of "
                        "static texture); live smooths with flow by default, where a camera's noise flickers most")
    p.add_argument("--keep-partial", action="store_true", help="on Ctrl-C keep what was written as OUT.partial.EXT (a video over 2 minutes is then painted in one "
                        "pass: without this flag it is painted in 1-minute segments, kept as they finish, and "
                        "the same command goes on from them)")
    p.add_argument("--streams", type=options.positive_int, metavar="N",
                   help="frames stylized at once with OpenVINO (default 2 where there are 2 or more cores; 1: one frame at a time)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--ray", metavar="ADDRESS",
                   help="paint on a Ray cluster (pip install 'stylecast[cluster]'): 'local' starts one on this machine, "
                        "'auto' joins the one in RAY_ADDRESS, HOST:PORT joins that one. Each file is cut at keyframes into "
                        "segments painted by one worker per CPU (or GPU) and joined with the original sound; inputs "
                        "and outputs must be on a path every node sees")
    p.add_argument("--segment-seconds", type=options.positive, default=10.0, metavar="S",
                   help="with --ray: about how long each segment is (cut at the keyframe after S seconds; default 10)")
    options.add_stroke_scale(p)
    options.add_paint(p)
    options.add_backend(p)
    p.set_defaults(func=cmd_video)
