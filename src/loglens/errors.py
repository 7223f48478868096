"""Errors loglens raises on purpose.

LoglensError                  anything loglens reports as one clear line and exit status
├── ConfigError               a bad configuration file, variable or flag
├── SourceError               an input that cannot be opened or read (missing file, bad URL)
│   └── StateError            a state folder or checkpoint that cannot be used
├── FormatError               a log format or pattern that cannot be used
└── NothingParsedError        ``loglens replay`` read lines, yet not one of them parsed
"""


class LoglensError(Exception):
    """Base of the errors loglens reports to users as one line."""

    exit_code = 1


class ConfigError(LoglensError):
    """The configuration (file, environment, flags) is invalid."""

    exit_code = 2


class SourceError(LoglensError):
    """An input cannot be opened or read."""


class StateError(SourceError):
    """The state folder or its checkpoint cannot be used (unwritable, damaged, another version)."""

    exit_code = 2


class FormatError(LoglensError):
    """A format name or custom pattern is unusable."""

    exit_code = 2


class NothingParsedError(LoglensError):
    """A replay read lines and parsed none: most likely the wrong format (its own exit status, 3)."""

    exit_code = 3
