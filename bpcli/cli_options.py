"""The click options that grad, check and batch share, each declared once.

A command lists them as decorators in the order its --help shows them. Where the commands
differ (the formats `--format` offers, what `--precision` and `--lang` apply to), the
difference is the factory's parameter; the name, type, default and metavar are the same
everywhere, so an option means one thing whichever command takes it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import click

from bpcli.limits import JSON_ELEMENTS, MAX_ELEMENTS
from bpcli.texts import LANGUAGES

Command = TypeVar("Command", bound=Callable[..., object])


def program_operands(command: Command) -> Command:
    """PROGRAM [NAME=VALUE]... and -f FILE: where grad and check read the program and its bindings."""
    command = click.option(
        "-f",
        "--file",
        "program_file",
        metavar="FILE",
        help="Read the program from FILE (- for stdin); every argument is then a binding.",
    )(command)
    return click.argument("args", nargs=-1, type=click.UNPROCESSED, metavar="PROGRAM [NAME=VALUE]...")(
        command
    )


def format_option(choices: Sequence[str], default: str, help: str) -> Callable[[Command], Command]:
    """--format: each command has its own formats, all passed on as `output_format`."""
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(choices),
        default=default,
        show_default=True,
        help=help,
    )


def precision_option(help: str) -> Callable[[Command], Command]:
    """--precision: the decimals shown; `help` says where they show."""
    return click.option("--precision", type=click.IntRange(1, 17), default=4, show_default=True, help=help)


def lang_option(help: str) -> Callable[[Command], Command]:
    """--lang: the language of the command's teaching text; `help` says which text that is."""
    return click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help=help)


seed_option = click.option(
    "--seed",
    type=click.IntRange(0),
    help="Seed for randn(…) and rand(…) bindings, and for the program's np.random"
    " (as np.random.seed(N) would).",
)

max_elements_option = click.option(
    "--max-elements",
    type=click.IntRange(1),
    default=MAX_ELEMENTS,
    show_default=True,
    help="The most elements any one array (a binding or a node) may have.",
)

full_option = click.option(
    "--full",
    is_flag=True,
    help=f"Write big arrays in full, not as a summary (JSON: arrays of more than {JSON_ELEMENTS:,}"
    " elements; steps: arrays of more than 64).",
)


def output_options(command: Command) -> Command:
    """--output NAME (-y) and --upstream [NAME=]VALUE: which node is the output, and the
    gradient that flows into it (grad and check)."""
    command = click.option(
        "--upstream",
        metavar="[NAME=]VALUE",
        help="The gradient flowing into the output (cs231n's dout), as a binding's value"
        " (dout=@dout.npy, [1, -2], randn(2,3)); then the output may be an array. NAME is the"
        " output's name or d and it (dout for out); another node's name makes that node the output.",
    )(command)
    return click.option(
        "-y",
        "--output",
        "output_name",
        metavar="NAME",
        help="The output: the node NAME is bound to at the end of the program (default: the last statement).",
    )(command)
