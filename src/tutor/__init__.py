"""tutor: the companion code of the book "Recurrent neural networks from the ground up".

Plain NumPy implementations of the networks the book teaches, each with a
hand-written backward pass that the tests check against finite differences
and against PyTorch. Import what a chapter uses, for example::

    import tutor
    tutor.show_source(tutor.show_source)
"""

from tutor.show import show_source

__version__ = "0.1.0"

__all__ = ["show_source", "__version__"]
