"""A float graph from an int8 (QuantizeLinear/DequantizeLinear) one: the int8 weights dequantized, the
activations left in float (W8A32).

The bundled styles ship as their int8 copies only; their float networks are rebuilt from them with
this. Per-channel int8 weights lose little: on held-out photos the rebuilt networks paint within
46-53 dB PSNR of the float originals, where the int8 graph itself, with its activations rounded too,
is 35-48 dB away (docs/styles.md). Needs onnx, not torch.
"""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper

from stylecast.errors import StylecastError
from stylecast.export.graph import constant_values


def _dequantized(node: onnx.NodeProto, values: dict[str, np.ndarray]) -> np.ndarray:
    q = values[node.input[0]]
    scale = values[node.input[1]].astype(np.float32)
    zero = values[node.input[2]].astype(np.float32) if len(node.input) > 2 and node.input[2] else np.zeros_like(scale)
    axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
    shape = [1] * q.ndim
    if scale.size > 1:  # per channel along ``axis``; a scalar scale covers the whole tensor
        shape[axis % q.ndim] = -1
    return ((q.astype(np.float32) - zero.reshape(shape)) * scale.reshape(shape)).astype(np.float32)


def float_from_int8(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` with each DequantizeLinear of a constant replaced by the float tensor it yields, and
    each QuantizeLinear -> DequantizeLinear pair on an activation bypassed. Metadata is kept."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    values = constant_values(graph)
    producer = {name: node for node in graph.node for name in node.output}
    rename: dict[str, str] = {}
    dropped: set[int] = set()
    weights = []
    for index, node in enumerate(graph.node):
        if node.op_type != "DequantizeLinear":
            continue
        source = producer.get(node.input[0])
        if node.input[0] in values:
            weights.append(numpy_helper.from_array(_dequantized(node, values), node.output[0]))
        elif source is not None and source.op_type == "QuantizeLinear":
            rename[node.output[0]] = source.input[0]
        else:
            raise StylecastError(f"cannot rebuild a float graph: {node.name or node.output[0]} dequantizes "
                                 "neither a constant nor a QuantizeLinear")
        dropped.add(index)
    if any(output.name in rename for output in graph.output):
        raise StylecastError("cannot rebuild a float graph: an output is dequantized")
    keep = [node for i, node in enumerate(graph.node) if i not in dropped]
    for node in keep:
        for i, name in enumerate(node.input):
            node.input[i] = rename.get(name, name)
    # the quantizers, and constants that only fed them or the dropped dequantizers, now feed nothing
    for op in ("QuantizeLinear", "Constant"):
        used = {name for node in keep for name in node.input} | {o.name for o in graph.output}
        keep = [node for node in keep if node.op_type != op or node.output[0] in used]
    if any(node.op_type in ("QuantizeLinear", "DequantizeLinear") for node in keep):
        raise StylecastError("cannot rebuild a float graph: a quantized tensor feeds something else than a DequantizeLinear")
    initializers = [init for init in graph.initializer if init.name in used] + weights
    del graph.node[:]
    graph.node.extend(keep)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    return out
