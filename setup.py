"""The C line reader of loglens; everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "loglens.parsing._clf",
            ["src/loglens/parsing/_clf.c", "src/loglens/parsing/clf_line.c"],
            depends=["src/loglens/parsing/arrow_c.h", "src/loglens/parsing/clf_line.h"],
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=True,  # without a compiler the regexes read every line (clf_split.strict_reader)
        )
    ]
)
