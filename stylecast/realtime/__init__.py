"""The runtime path: frames in, stylized frames out. Needs numpy, OpenCV and a backend; never torch."""
