"""One conditional-instance-norm network for every painting: distilling the bundled paintings into it
(distil.py), from teacher paintings made once (teacher_paintings.py), and adding a painting to it
(add_style.py); steps.py is the step loop both share."""
