"""Paint small, show big: frames are painted at a working size and brought back to their own size
by edge-aware guided upsampling; in live a governor picks the working size (and network) that keeps
up with the camera."""
