"""Files in and out: decoding, encoding with the source's audio, output planning, the overlapped video pipeline."""
