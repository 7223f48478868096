"""loglens: turn live access and application logs into metrics, alerts and insight."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("loglens")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
