"""Transcript types (the source of truth for text and time), writers and readers."""

from .model import Segment, Transcript, Word

__all__ = ["Segment", "Transcript", "Word"]
