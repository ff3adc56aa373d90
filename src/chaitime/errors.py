"""Errors a user can act on. The CLI turns each into one line on stderr and an exit code."""


class ChaitimeError(Exception):
    """Base: the message says what, where and how to fix."""

    exit_code = 1


class InputError(ChaitimeError):
    """A recording, file or argument the user gave can't be used."""

    exit_code = 2


class ConfigError(ChaitimeError):
    """chaitime.toml or episode.toml is invalid."""

    exit_code = 3


class ToolError(ChaitimeError):
    """An external tool (ffmpeg) failed."""

    exit_code = 4


class ModelError(ChaitimeError):
    """A Whisper model or engine can't be had or used."""

    exit_code = 5


class BusyError(ChaitimeError):
    """Another chaitime process is working on the same episode."""

    exit_code = 6


class DiskFullError(ChaitimeError):
    """The disk holding the workspace (or an output) has no room for what a stage writes."""

    exit_code = 7


class PartialError(ChaitimeError):
    """A batch finished, but some of its episodes failed (each was reported on its own line)."""

    exit_code = 8
