"""Export trained networks to ONNX (needs torch and onnx)."""
