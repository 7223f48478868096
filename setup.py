"""loglens's C modules (the line reader, the panels' tally); everything else is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "loglens.parsing._clf",
            ["src/loglens/parsing/_clf.c", "src/loglens/parsing/clf_line.c"],
            depends=["src/loglens/parsing/arrow_c.h", "src/loglens/parsing/arrow_capsule.h", "src/loglens/parsing/clf_line.h"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=True,  # without a compiler the regexes read every line (clf_split.strict_reader)
        ),
        Extension(
            "loglens.aggregate._tally",
            ["src/loglens/aggregate/_tally.c", "src/loglens/aggregate/tally_counts.c"],
            depends=[
                "src/loglens/parsing/arrow_c.h",
                "src/loglens/parsing/arrow_capsule.h",
                "src/loglens/aggregate/tally_counts.h",
            ],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=True,  # without a compiler or xxhash.h polars groups the panels (aggregate/tally.py)
        ),
    ]
)
