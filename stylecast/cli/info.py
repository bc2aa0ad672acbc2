"""`stylecast styles`, `stylecast doctor` and `stylecast eval-temporal`: what is here and how it does."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stylecast.cli import options


def cmd_styles(args: argparse.Namespace) -> int:
    from stylecast.styles import bundled_styles, lighter_variants
    from stylecast.styles.mixes import painting_row

    every = bundled_styles()
    if not every:
        print("no bundled styles found")
        return 0
    styles = _named(every, args.names) if args.names else every
    for s in styles:
        card = s.card
        if card is None:
            print(f"{s.name}\t(no card)")
            continue
        t = card.training
        trained = f"{t.get('steps', '?')} steps, batch {t.get('batch', '?')}, {t.get('wall_time_s', '?')} s on {t.get('hardware', '?')}"
        teacher = t.get("distilled_from")
        if card.styles:
            print(_multistyle_lines(s.name, card, trained, s.model))
            continue
        if teacher:
            trained += (f", distilled from {teacher.get('name') or teacher.get('model')} "
                        f"({t.get('parent_steps', '?')} steps before this run, the teacher's included)")
        elif t.get("parent_steps"):
            trained += f", fine-tuned from a network trained {t['parent_steps']} steps"
        if t.get("averaged_from"):
            trained += "; weights averaged from " + " + ".join(f"{a['run']} ({100 * a['share']:.0f}%)" for a in t["averaged_from"])
        print(f"{s.name}\t{card.network}\t{card.style_source or card.style_image} [{card.style_license or 'license unknown'}]\n\ttrained: {trained}\n\tmodel: {s.model}")
        if (scores := _held_out(card.evaluation)) is not None:
            print(f"\theld out: {scores}")
        lighter = lighter_variants(s.name, every)
        if (row := painting_row(s.name, every)) is not None:
            lighter.append(f"{row} (on the multi-style network)")
        if lighter:
            print(f"\tlighter networks, same painting: {', '.join(lighter)}")
    print("which of these keep up with a camera on this machine: stylecast bench styles", file=sys.stderr)
    return 0


def _named(styles: list, names: list[str]) -> list:
    """The bundled ``styles`` called ``names``, in that order; an unknown name is one line, with the nearest."""
    import difflib

    from stylecast.errors import StylecastError

    by_name = {s.name: s for s in styles}
    for name in names:
        if name not in by_name:
            close = difflib.get_close_matches(name, by_name, n=1, cutoff=0.5)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise StylecastError(f"no bundled style '{name}'.{hint} Bundled styles: {', '.join(by_name)}")
    return [by_name[name] for name in dict.fromkeys(names)]


def _multistyle_lines(name: str, card, trained: str, model) -> str:
    """A multi-style network: what it paints, how to mix, and each painting's held-out scores."""
    paintings = list(card.styles)
    example = ",".join(f"{p}={w}" for p, w in zip(paintings[:2], ("0.6", "0.4")))
    lines = [f"{name}\t{card.network}, {len(paintings)} paintings in one network: {', '.join(paintings)}",
             f"\tmix them: -s \"{example}\" (any weights; one painting alone: -s {paintings[0]}=1)",
             f"\ttrained: {trained} (after {card.training.get('parent_steps', 0)} earlier steps), distilled from each "
             f"painting's full network", f"\tmodel: {model}"]
    for painting, scores in (card.evaluation.get("paintings") or {}).items():
        lines.append(f"\theld out, {painting}: style ratio {scores['style_ratio']} (its full network "
                     f"{scores['teacher_style_ratio']}), {scores['teacher_psnr_db']} dB PSNR against it")
    return "\n".join(lines)


def _held_out(evaluation: dict) -> str | None:
    """The card's held-out scores in a line: style ratio (lower paints more), and a distilled
    network's PSNR against its teacher."""
    if "style_ratio" not in evaluation:
        return None
    where = f" on {evaluation['images']} held-out photos" if evaluation.get("images") else ""
    teacher = f", {evaluation['teacher_psnr_db']} dB PSNR against its teacher" if "teacher_psnr_db" in evaluation else ""
    return f"style ratio {evaluation['style_ratio']}{where} (lower paints more; unstylized = 1){teacher}"


def cmd_doctor(args: argparse.Namespace) -> int:
    import os

    from stylecast.doctor import report, run_checks

    checks = run_checks(os.environ.get("ONEDNN_MAX_CPU_ISA"))
    document = report(checks)
    if args.json:
        options.print_json(document)
    else:
        print("\n".join(c.line() for c in checks))
        print("the basics work: stylecast can paint here" if document["ok"] else "stylecast cannot paint here yet: see FAIL above")
    return 0 if document["ok"] else 1


def cmd_eval_temporal(args: argparse.Namespace) -> int:
    import json

    from stylecast.realtime.temporal.evaluate import evaluate_videos

    print(json.dumps(evaluate_videos(args.video, args.source, args.limit, args.flow_scale).to_dict(), indent=2))
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("styles", help="list bundled styles", description="List the bundled styles with their cards.")
    p.add_argument("names", nargs="*", metavar="NAME", help="only these styles (default: every bundled style)")
    p.set_defaults(func=cmd_styles)
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
    p.add_argument("--limit", type=options.positive_int, default=300, help="at most this many frames")
    p.add_argument("--flow-scale", type=options.flow_scale, default=1.0,
                   help="resolution of the flow, 0.1-1 (default 1: full; lower is faster but misses small moving objects)")
    p.set_defaults(func=cmd_eval_temporal)
