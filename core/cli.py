"""Command-line flags from a typed config dataclass: one flag per field, and back.

Every CLI that builds its arguments from a dataclass uses these two functions, so a field's
type, default and help are written once, on the field:

    @dataclass
    class Config:
        episodes: int = option(1000, "optimiser steps")
        ways: tuple[int, ...] = option((5,), "classes per episode")

    add_config_arguments(parser, Config)
    config = config_from_args(Config, parser.parse_args(argv))

and every command-line program (core.commands) starts from the same preamble: its parser
(command_parser), the command as typed, for the records it writes (command_line), and one
way to refuse input it cannot use (input_error):

    parser = command_parser("core.evaluate", __doc__)
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import MISSING, Field, field, fields
from typing import Any


def option(default: Any, help: str = "", aliases: Sequence[str] = ()) -> Any:
    """A dataclass field with its flag's help text and any older flag names (`--hidden`)."""
    return field(default=default, metadata={"help": help, "aliases": tuple(aliases)})


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _element_type(f: Field, default: tuple) -> type:
    if default:
        return type(default[0])  # the elements' type: int, float or str
    text = str(f.type)
    return float if "float" in text else str if "str" in text else int


def add_config_arguments(
    parser: argparse.ArgumentParser | Any,
    config_type: type,
    helps: Mapping[str, str] | None = None,
    skip: Sequence[str] = (),
) -> None:
    """One flag per field of `config_type`: --name-with-dashes, typed by its default.

    bool fields get --flag / --no-flag; tuple fields take one or more values. The help text
    is the field's metadata "help" (see option) or `helps[name]`; metadata "aliases" names
    older flags that set the same field.

    Args:
        parser: an argparse parser or sub-parser.
        config_type: a dataclass whose fields all have defaults.
        helps: help texts by field name, for dataclasses without option() metadata.
        skip: field names to leave out.
    """
    helps = helps or {}
    for f in fields(config_type):
        if f.name in skip:
            continue
        if f.default is MISSING:
            raise ValueError(f"{config_type.__name__}.{f.name} needs a default to be a flag")
        default = f.default
        names = [_flag(f.name), *f.metadata.get("aliases", ())]
        options: dict[str, Any] = {
            "default": default,
            "dest": f.name,
            "help": f.metadata.get("help") or helps.get(f.name, ""),
        }
        if isinstance(default, bool):
            parser.add_argument(*names, action=argparse.BooleanOptionalAction, **options)
        elif isinstance(default, tuple):
            options["default"] = list(default)
            parser.add_argument(*names, type=_element_type(f, default), nargs="+", **options)
        else:
            parser.add_argument(*names, type=type(default), **options)


def config_from_args(config_type: type, args: argparse.Namespace | Mapping[str, Any]) -> Any:
    """The `config_type` whose fields take the parsed values (lists become tuples)."""
    values = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    return config_type(
        **{
            f.name: tuple(values[f.name]) if isinstance(f.default, tuple) else values[f.name]
            for f in fields(config_type)
            if f.name in values
        }
    )


def command_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m <module>`: that usage line, and `doc` (the command's
    docstring, with its examples) as the description, printed as written."""
    return argparse.ArgumentParser(
        prog=f"python -m {module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def command_line(module: str, argv: Sequence[str] | None = None) -> str:
    """The command as a person would type it again: "python -m <module> <arguments>" (the
    process's own arguments when `argv` is None), for the records a command writes."""
    return f"python -m {module} " + shlex.join(list(argv) if argv is not None else sys.argv[1:])


def report_line(line: Mapping[str, Any], out: str | None = None) -> None:
    """One JSON result line: printed (flushed, so a long probe shows each as it comes) and,
    when `out` names a file, appended to it."""
    text = json.dumps(line)
    print(text, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")


def input_error(error: BaseException | str) -> int:
    """Report input that cannot be used, on standard error as "error: <what is wrong>", and
    give the exit status for it: 2."""
    print(f"error: {error}", file=sys.stderr)
    return 2
