"""Which runtime paints a frame: backends behind one Protocol, and the frame <-> tensor conversions."""
