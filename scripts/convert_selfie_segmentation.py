"""Convert MediaPipe's selfie segmentation TFLite models to the ONNX that stylecast ships.

The PyPI ``mediapipe==0.10.14`` wheel carries ``selfie_segmentation.tflite`` (256x256, "general")
and ``selfie_segmentation_landscape.tflite`` (144x256), Apache-2.0. Later wheels do not, so the
conversion is done once, here, and the runtime never needs mediapipe or TensorFlow.

The graph is small and fixed (MobileNetV3-like: conv, depthwise conv, hard-swish, squeeze-excite,
bilinear upsampling and MediaPipe's ``Convolution2DTransposeBias`` custom op), so it is translated
op by op from the flatbuffer. Two changes are folded into the first convolution's weights, where
they cost nothing: the ONNX takes the frame as OpenCV holds it (uint8 BGR, NHWC), so the /255 of
the [0, 1] input range and the BGR->RGB swap become a scale and a permutation of the kernel.

    pip install tflite==2.18.0 onnx               # the parser; no TensorFlow needed
    pip download --no-deps mediapipe==0.10.14 -d /tmp/mp && cd /tmp/mp && unzip -q mediapipe-*.whl
    python scripts/convert_selfie_segmentation.py /tmp/mp/mediapipe/modules/selfie_segmentation

Check it against the TFLite original run by MediaPipe's own interpreter (a separate venv: mediapipe
0.10.14 pins protobuf 4, onnx needs 6):

    python scripts/convert_selfie_segmentation.py --reference refs.npz PHOTOS...   # in the mediapipe venv
    python scripts/convert_selfie_segmentation.py --compare refs.npz               # here

    mediapipe venv: python -m venv mp && mp/bin/pip install --no-deps mediapipe==0.10.14 &&
                    mp/bin/pip install absl-py attrs flatbuffers 'protobuf<5' 'numpy<2' opencv-python-headless matplotlib
(the tests do the same comparison when STYLECAST_MEDIAPIPE_PYTHON names that venv's python; .ci/run makes one)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "stylecast" / "segment"
MODELS = {"selfie_segmentation_landscape": "selfie_landscape", "selfie_segmentation": "selfie_general"}


def convert(tflite_path: Path, onnx_path: Path) -> dict:
    import onnx
    import tflite
    from onnx import TensorProto, helper, numpy_helper
    from tflite.BuiltinOperator import BuiltinOperator

    op_names = {v: k for k, v in BuiltinOperator.__dict__.items() if not k.startswith("_")}
    buf = tflite_path.read_bytes()
    model = tflite.Model.GetRootAsModel(buf, 0)
    graph = model.Subgraphs(0)

    def tensor(i: int):
        return graph.Tensors(i)

    def shape(i: int) -> list[int]:
        return [int(d) for d in tensor(i).ShapeAsNumpy()]

    def name(i: int) -> str:
        return tensor(i).Name().decode()

    def raw(i: int) -> np.ndarray:
        t = tensor(i)
        data = model.Buffers(t.Buffer()).DataAsNumpy()
        dtype = {0: np.float32, 1: np.float16, 2: np.int32}[t.Type()]
        return np.frombuffer(data.tobytes(), dtype).reshape(shape(i))

    constants: dict[str, np.ndarray] = {}
    nodes, initializers = [], []
    in_idx, out_idx = int(graph.Inputs(0)), int(graph.Outputs(0))
    _, height, width, _ = shape(in_idx)

    def const(key: str, value: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(value), key))
        return key

    def same_pads(size_h: int, size_w: int, k: tuple[int, int], s: tuple[int, int], out_h: int, out_w: int) -> list[int]:
        th = max((out_h - 1) * s[0] + k[0] - size_h, 0)
        tw = max((out_w - 1) * s[1] + k[1] - size_w, 0)
        return [th // 2, tw // 2, th - th // 2, tw - tw // 2]

    def activation(out: str, code: int) -> tuple[str, str | None]:
        if code == 0:
            return out, None
        if code == 1:
            return out + "_pre", "Relu"
        raise ValueError(f"fused activation {code} not handled")

    # uint8 BGR NHWC in; the scale and channel swap live in the first conv's kernel
    x = "frame"
    nodes.append(helper.make_node("Cast", [x], ["frame_f"], to=TensorProto.FLOAT))
    nodes.append(helper.make_node("Transpose", ["frame_f"], [name(in_idx)], perm=[0, 3, 1, 2]))
    first_conv = True
    counts: dict[str, int] = {}
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        kind = code.CustomCode().decode() if code.CustomCode() else op_names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        counts[kind] = counts.get(kind, 0) + 1
        ins = [int(j) for j in op.InputsAsNumpy()]
        out = int(op.OutputsAsNumpy()[0])
        out_name = name(out)
        if kind == "DEQUANTIZE":
            constants[out_name] = raw(ins[0]).astype(np.float32)
            continue
        if kind in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            opts = tflite.Conv2DOptions() if kind == "CONV_2D" else tflite.DepthwiseConv2DOptions()
            bo = op.BuiltinOptions()
            opts.Init(bo.Bytes, bo.Pos)
            kernel = constants[name(ins[1])]
            bias = constants[name(ins[2])]
            if kind == "CONV_2D":  # [O, kh, kw, I] -> [O, I, kh, kw]
                w = kernel.transpose(0, 3, 1, 2)
                group = 1
                if first_conv:
                    w = w[:, ::-1] / 255.0  # RGB [0, 1] weights applied to BGR [0, 255]
                    first_conv = False
            else:  # [1, kh, kw, C] -> [C, 1, kh, kw]
                if opts.DepthMultiplier() != 1:
                    raise ValueError("depth multiplier != 1 not handled")
                w = kernel.transpose(3, 0, 1, 2)
                group = w.shape[0]
            kh, kw = w.shape[2:]
            s = (opts.StrideH(), opts.StrideW())
            _, _, ih, iw = [shape(ins[0])[k] for k in (0, 3, 1, 2)]
            _, oh, ow, _ = shape(out)
            pads = same_pads(ih, iw, (kh, kw), s, oh, ow) if opts.Padding() == 0 else [0, 0, 0, 0]
            conv_out, act = activation(out_name, opts.FusedActivationFunction())
            nodes.append(helper.make_node(
                "Conv", [name(ins[0]), const(name(ins[1]) + "_w", w.astype(np.float32)),
                         const(name(ins[2]) + "_b", bias.astype(np.float32))],
                [conv_out], kernel_shape=[kh, kw], strides=list(s), pads=pads, group=group))
            if act:
                nodes.append(helper.make_node(act, [conv_out], [out_name]))
        elif kind in ("HARD_SWISH", "RELU", "LOGISTIC"):
            onnx_op = {"HARD_SWISH": "HardSwish", "RELU": "Relu", "LOGISTIC": "Sigmoid"}[kind]
            nodes.append(helper.make_node(onnx_op, [name(ins[0])], [out_name]))
        elif kind in ("ADD", "MUL"):
            opts = tflite.AddOptions() if kind == "ADD" else tflite.MulOptions()
            bo = op.BuiltinOptions()
            opts.Init(bo.Bytes, bo.Pos)
            res, act = activation(out_name, opts.FusedActivationFunction())
            nodes.append(helper.make_node("Add" if kind == "ADD" else "Mul", [name(ins[0]), name(ins[1])], [res]))
            if act:
                nodes.append(helper.make_node(act, [res], [out_name]))
        elif kind in ("MEAN", "AVERAGE_POOL_2D"):
            _, ih, iw, _ = shape(ins[0])
            if kind == "MEAN":
                axes = sorted(int(a) for a in raw(ins[1]).ravel())
                if axes != [1, 2]:
                    raise ValueError(f"MEAN over axes {axes} not handled")
            else:
                opts = tflite.Pool2DOptions()
                bo = op.BuiltinOptions()
                opts.Init(bo.Bytes, bo.Pos)
                if (opts.FilterHeight(), opts.FilterWidth()) != (ih, iw):
                    raise ValueError("only global average pooling is handled")
            nodes.append(helper.make_node("GlobalAveragePool", [name(ins[0])], [out_name]))
        elif kind == "RESIZE_BILINEAR":
            opts = tflite.ResizeBilinearOptions()
            bo = op.BuiltinOptions()
            opts.Init(bo.Bytes, bo.Pos)
            if opts.AlignCorners() or not opts.HalfPixelCenters():
                raise ValueError("only half-pixel bilinear resizing is handled")
            _, oh, ow, oc = shape(out)
            sizes = const(out_name + "_sizes", np.array([1, oc, oh, ow], np.int64))
            nodes.append(helper.make_node("Resize", [name(ins[0]), "", "", sizes], [out_name], mode="linear",
                                          coordinate_transformation_mode="half_pixel"))
        elif kind == "Convolution2DTransposeBias":
            # MediaPipe's op: TfLiteTransposeConvParams {padding, stride_w, stride_h} as three int32
            padding, stride_w, stride_h = np.frombuffer(bytes(op.CustomOptionsAsNumpy()), np.int32)
            kernel = constants[name(ins[1])]  # [O, kh, kw, I] -> ConvTranspose's [I, O, kh, kw]
            bias = constants[name(ins[2])]
            w = kernel.transpose(3, 0, 1, 2)
            kh, kw = w.shape[2:]
            _, ih, iw, _ = shape(ins[0])
            _, oh, ow, _ = shape(out)
            if (oh, ow) != (ih * stride_h, iw * stride_w) or (kh, kw) != (stride_h, stride_w):
                raise ValueError("only non-overlapping transpose convolutions are handled")
            nodes.append(helper.make_node(
                "ConvTranspose", [name(ins[0]), const(name(ins[1]) + "_w", w.astype(np.float32)),
                                  const(name(ins[2]) + "_b", bias.astype(np.float32))],
                [out_name], kernel_shape=[int(kh), int(kw)], strides=[int(stride_h), int(stride_w)]))
        else:
            raise ValueError(f"TFLite op {kind} not handled")
    nodes.append(helper.make_node("Squeeze", [name(out_idx), const("squeeze_axes", np.array([0, 1], np.int64))], ["person"]))
    graph_def = helper.make_graph(
        nodes, tflite_path.stem,
        [helper.make_tensor_value_info("frame", TensorProto.UINT8, [1, height, width, 3])],
        [helper.make_tensor_value_info("person", TensorProto.FLOAT, [height, width])],
        initializers)
    onnx_model = helper.make_model(graph_def, opset_imports=[helper.make_opsetid("", 17)],
                                   producer_name="stylecast scripts/convert_selfie_segmentation.py")
    onnx.checker.check_model(onnx_model)
    onnx_path.write_bytes(onnx_model.SerializeToString())
    return {"ops": counts, "input": [height, width], "sha256_tflite": hashlib.sha256(buf).hexdigest()}


def reference(out: Path, photos: list[Path]) -> None:
    """Run the TFLite originals through MediaPipe 0.10.14 (its interpreter has the custom op) on
    ``photos``, each resized to the model's input size so MediaPipe's own resizing is the identity."""
    import cv2
    import mediapipe
    from mediapipe.python.solutions import selfie_segmentation

    arrays = {}
    modules = Path(mediapipe.__file__).parent / "modules" / "selfie_segmentation"
    for tfl in MODELS:  # which originals these masks come from, to check against the card
        arrays[f"sha256_{tfl}"] = np.array(hashlib.sha256((modules / f"{tfl}.tflite").read_bytes()).hexdigest())
    for selection, (h, w) in ((1, (144, 256)), (0, (256, 256))):
        with selfie_segmentation.SelfieSegmentation(model_selection=selection) as seg:
            for k, path in enumerate(photos):
                image = cv2.resize(cv2.imread(str(path)), (w, h), interpolation=cv2.INTER_AREA)
                mask = seg.process(cv2.cvtColor(image, cv2.COLOR_BGR2RGB)).segmentation_mask
                arrays[f"{selection}_{k}_image"], arrays[f"{selection}_{k}_mask"] = image, mask
    arrays["photos"] = np.array([str(p) for p in photos])
    np.savez_compressed(out, **arrays)


def compare(refs: Path) -> dict:
    """ONNX (onnxruntime) vs the TFLite original on the reference photos: mask differences and IoU."""
    import onnxruntime as ort

    data = np.load(refs)
    results = {}
    for selection, stem in ((1, "selfie_landscape"), (0, "selfie_general")):
        session = ort.InferenceSession(str(OUT / f"{stem}.onnx"), providers=["CPUExecutionProvider"])
        rows = []
        for k, photo in enumerate(data["photos"]):
            image, want = data[f"{selection}_{k}_image"], data[f"{selection}_{k}_mask"]
            got = session.run(None, {"frame": image[None]})[0]
            diff = np.abs(got - want)
            inter = np.logical_and(got > 0.5, want > 0.5).sum()
            union = np.logical_or(got > 0.5, want > 0.5).sum()
            psnr = 10 * np.log10(1.0 / max(float(np.mean(diff ** 2)), 1e-12))
            rows.append({"photo": Path(str(photo)).name, "max_abs": float(diff.max()), "psnr_db": round(psnr, 1),
                         "iou": float(inter / union) if union else 1.0, "person_share": float((want > 0.5).mean())})
        results[stem] = rows
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("source", nargs="*", type=Path, help="folder with the .tflite files (or, with --reference, photos)")
    p.add_argument("--reference", type=Path, metavar="NPZ", help="write MediaPipe's masks of the photos given")
    p.add_argument("--compare", type=Path, metavar="NPZ", help="compare the shipped ONNX with these reference masks")
    args = p.parse_args()
    if args.reference:
        reference(args.reference, args.source)
        return 0
    if args.compare:
        print(json.dumps(compare(args.compare), indent=1))
        return 0
    if len(args.source) != 1:
        p.error("give the folder holding selfie_segmentation*.tflite")
    OUT.mkdir(exist_ok=True)
    for tfl, stem in MODELS.items():
        info = convert(args.source[0] / f"{tfl}.tflite", OUT / f"{stem}.onnx")
        print(stem, json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
