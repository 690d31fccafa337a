"""veche's domain core: plain Python (and NumPy for tallies), no Django, no I/O, no clock.

Everything here takes time, seeds and history as arguments and returns values, so the
rules can be tested directly and re-checked by anyone from the recorded events.
"""
