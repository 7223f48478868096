"""Allow ``python -m loglens``."""

from loglens.cli import main

main()
