"""fp16 storage of a float ONNX graph's weights (half the file, fp32 compute), and back. Needs onnx, not torch."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def compress_weights_fp16(model: onnx.ModelProto) -> onnx.ModelProto:
    """Store float weights as fp16 with a Cast back to fp32: half the file, same fp32 compute.

    Every runtime can execute it (CPU kernels stay fp32), unlike a model computing in fp16.
    """
    out = onnx.ModelProto()
    out.CopyFrom(model)
    graph = out.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != TensorProto.FLOAT or len(init.dims) == 0 or np.prod(init.dims) < 16:
            continue
        half = numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name + "_fp16")
        init.CopyFrom(half)
        casts.append(helper.make_node("Cast", [init.name], [init.name[: -len("_fp16")]], to=TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    return out


def restore_fp32_weights(model: onnx.ModelProto) -> onnx.ModelProto:
    """Undo ``compress_weights_fp16`` in place: fp16 initializers read through a Cast become the fp32
    initializers the Cast made, under its output's name (the same numbers, exactly)."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep = []
    for node in graph.node:
        src = node.input[0] if node.op_type == "Cast" and node.input else None
        if src in inits and inits[src].data_type == TensorProto.FLOAT16:
            array = numpy_helper.to_array(inits[src]).astype(np.float32)
            inits[src].CopyFrom(numpy_helper.from_array(array, node.output[0]))
            continue
        keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return model
