"""veche: a federation of autonomous groups governing itself by direct democracy."""

__version__ = "0.1.0"
