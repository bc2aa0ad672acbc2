"""The model with `preprocess`/`postprocess` moved inside its graph: uint8 BGR frames in and out.

On a GPU the host-side conversions are the bottleneck at large sizes: at 3840x2160 they take
about 36 ms a frame on one CPU core (numpy), and the float32 tensors they make are 4x the bytes
of the frames they come from, copied over PCIe both ways. With this graph the host sends the
decoded frame as it is and gets the painted frame back; the cast, channel swap and layout change
run on the device. It computes what ``postprocess(model(preprocess(frame)))`` computes: the
output is clamped and rounded half to even, as OpenCV's saturating convert does.

Frames must already have a height and width divisible by the contract's size multiple (the
Stylizer pads them first, as ``preprocess`` does).
"""
from __future__ import annotations

from stylecast.contract import parse_metadata

FRAME_INPUT = "frame"
FRAME_OUTPUT = "painted"


def with_frame_io(model):
    """``model`` (an ``onnx.ModelProto``, NCHW float I/O) rewritten in place to take and give 1xHxWx3 uint8 BGR."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    contract, _ = parse_metadata({p.key: p.value for p in model.metadata_props})
    graph = model.graph
    inner_in, inner_out = contract.input_name, contract.output_name
    swap = contract.channels == "RGB"
    low, high = contract.value_range
    consts = {"stylecast_bgr_rgb": np.array([2, 1, 0], np.int64), "stylecast_zero": np.array(0, np.float32),
              "stylecast_full": np.array(255, np.float32)}
    rescale = (low, high) != (0.0, 255.0)
    if rescale:
        consts.update(stylecast_low=np.array(low, np.float32), stylecast_scale=np.array(255.0 / (high - low), np.float32))
    graph.initializer.extend(numpy_helper.from_array(v, k) for k, v in consts.items())

    # frame (1, H, W, 3) uint8 BGR -> the network's input (1, 3, H, W) float RGB on 0-255
    rgb = "stylecast_rgb" if swap else FRAME_INPUT
    before = [helper.make_node("Gather", [FRAME_INPUT, "stylecast_bgr_rgb"], [rgb], axis=3)] if swap else []
    before += [helper.make_node("Transpose", [rgb], ["stylecast_nchw_u8"], perm=[0, 3, 1, 2]),
               helper.make_node("Cast", ["stylecast_nchw_u8"], [inner_in], to=TensorProto.FLOAT)]
    # network output (1, 3, H, W) float on the contract's range -> (1, H, W, 3) uint8 BGR
    after, last = [], inner_out
    nhwc = "stylecast_nhwc" if swap else FRAME_OUTPUT
    if rescale:
        after += [helper.make_node("Sub", [last, "stylecast_low"], ["stylecast_shifted"]),
                  helper.make_node("Mul", ["stylecast_shifted", "stylecast_scale"], ["stylecast_scaled"])]
        last = "stylecast_scaled"
    after += [helper.make_node("Clip", [last, "stylecast_zero", "stylecast_full"], ["stylecast_clipped"]),
              helper.make_node("Round", ["stylecast_clipped"], ["stylecast_rounded"]),
              helper.make_node("Cast", ["stylecast_rounded"], ["stylecast_out_u8"], to=TensorProto.UINT8),
              helper.make_node("Transpose", ["stylecast_out_u8"], [nhwc], perm=[0, 2, 3, 1])]
    after += [helper.make_node("Gather", [nhwc, "stylecast_bgr_rgb"], [FRAME_OUTPUT], axis=3)] if swap else []

    nodes = before + list(graph.node) + after
    del graph.node[:]
    graph.node.extend(nodes)
    frame_type = [TensorProto.UINT8, ["batch", "height", "width", 3]]
    inputs = [helper.make_tensor_value_info(FRAME_INPUT, *frame_type)] + [i for i in graph.input if i.name != inner_in]
    del graph.input[:]
    graph.input.extend(inputs)
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(FRAME_OUTPUT, *frame_type))
    return model
