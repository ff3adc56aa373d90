"""chaitime: from a raw interview recording to a published podcast episode, locally."""

__version__ = "0.1.0"
