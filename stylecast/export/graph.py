"""Reading an ONNX graph's constant tensors (initializers and Constant nodes). Needs onnx, not torch."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import numpy_helper


def constant_values(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """Every initializer and every Constant node's value, by the name the graph reads it under."""
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def weight_values(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    """``constant_values`` plus the names a Cast or Identity passes a constant on under (fp16-stored
    weights, weights shared between equal layers): every name a layer may read a weight by."""
    values = constant_values(graph)
    for node in graph.node:
        if node.op_type in ("Cast", "Identity") and node.input and node.input[0] in values:
            values[node.output[0]] = values[node.input[0]]
    return values
