"""Network definitions shared by training, export and the Gatys optimizer (needs torch)."""
