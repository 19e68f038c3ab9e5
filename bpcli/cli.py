"""The command line: reads options, calls the core, hands the result to a presenter.

`main` is the one boundary where errors become `error: …` on stderr and an exit code.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, ParamSpec

import click

from bpcli.cli_options import (
    format_option,
    full_option,
    lang_option,
    max_elements_option,
    output_options,
    precision_option,
    program_operands,
    seed_option,
)
from bpcli.errors import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    BpcliError,
    InputError,
    ParseError,
)
from bpcli.limits import MAX_ELEMENTS
from bpcli.present import GRAD_FORMATS, PICTURES, Part, plain_console, write_parts
from bpcli.streams import (
    Interrupt,
    ProgressBar,
    RecordWriter,
    batch_sources,
    count_problems,
    is_terminal,
    make_console,
    read_text,
    screen_width,
    silence_stdout,
)
from bpcli.version import __version__

if TYPE_CHECKING:
    from numpy.random import Generator

    from bpcli.core.graph import Graph
    from bpcli.core.run import Run
    from bpcli.grading.answers import Tolerance
    from bpcli.grading.findings import Verdict
    from bpcli.present.classroom import Student
    from bpcli.texts import Translator

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}
PROGRAM_SUFFIXES = (".bp", ".txt")
Params = ParamSpec("Params")

GRAD_EXAMPLES = """\b
Examples:
  bpcli grad "(x+y)*z" x=-2 y=5 z=-4
  bpcli grad "-x*y" x=3 y=2
  bpcli grad samples/neuron.bp
  bpcli grad samples/neuron.bp w0=1 --format json
  echo "q = x + y; f = q*z" | bpcli grad - x=-2 y=5 z=-4
  bpcli grad "sum((W@x)^2)" "W=[[0.1,0.5],[-0.3,0.8]]" "x=[0.2,0.4]"
  bpcli grad "norm(W@x)^2" W=@W.npy x=@x.csv
  bpcli grad samples/matrix.bp --jacobian
  bpcli grad samples/cs231n/rnn_forward.bp
  bpcli grad "sum(tanh(W@x))" "W=randn(3,4)" "x=randn(4)" --seed 0
  bpcli grad samples/neuron.bp --format steps --precision 2
  bpcli grad samples/neuron.bp --format steps --lang zh
  bpcli grad samples/neuron.bp --format tree
  bpcli grad ./rnn_forward.py --depth 1 --format steps
  bpcli grad samples/neuron.bp -o neuron.svg
  bpcli grad "q = x + y; f = q*z" x=-2 y=5 z=-4 --output q
  bpcli grad "out = tanh(W @ x)" "W=randn(3,4)" "x=randn(4)" \\
    --upstream "dout=randn(3)" --seed 0
  bpcli grad samples/neuron_sigmoid.bp --expand --gradcheck
  bpcli grad samples/two_layer_net.bp --wrt W1,b1 --format markdown
  bpcli grad samples/cs231n/svm_loss.bp X=@samples/cs231n/data/X.npy \\
    W=@samples/cs231n/data/W.npy y=@samples/cs231n/data/y.npy --wrt W
  bpcli grad 'N = X.shape[0]; p = softmax(X @ W, axis=1)
    L = -np.log(p[np.arange(N), y]).mean()' 'X=randn(4,3)' 'W=randn(3,5)' \\
    'y=[0,4,2,2]'
"""


class ProgramCommand(click.Command):
    """A command whose first operand is a program, which may start with `-` (`-x*y`, `-h*x`).

    An argument is an option only when it is exactly one of the command's own options
    (`-o FILE`, `--out FILE`, `--out=FILE`: a short option never has its value
    attached, so `-offset` is never `-o ffset`), or starts with `--` and a letter (so that a
    misspelt `--fromat` gets click's "no such option"). The first other argument is the
    program, whatever its first character; `--` ends the options, and the argument after it
    is the program if none came before. After the program, options may still come among the
    bindings, which never start with `-`: any other argument starting with `-` there is no
    such option.

    An option in `many` (check's --answers) takes more values: after the program (or with
    -f FILE), every later argument that is not an option nor NAME=VALUE is another of its
    values (`--answers a.txt b.txt`, a shell glob)."""

    many: tuple[str, ...] = ()
    # grad's -o was once spelt --output: there `--output out.svg` still means -o, with a warning
    old_output: bool = True

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        takes_value = {
            name: not (param.is_flag or param.count)
            for param in self.get_params(ctx)
            if isinstance(param, click.Option)
            for name in (*param.opts, *param.secondary_opts)
        }
        program, rest, i = None, [], 0
        if self.old_output and "--output" in takes_value and "--out" in takes_value:
            args = _old_output_spelling(args)
        options = args[: args.index("--")] if "--" in args else args
        from_file = any(a in ("-f", "--file") or a.startswith("--file=") for a in options)
        collecting: str | None = None  # the option in `many` that later files go to
        early: str | None = None  # such an option given before the program
        while i < len(args):
            arg = args[i]
            if arg == "--":  # the end of the options: click reads the rest as operands
                if program is None and i + 1 < len(args):
                    program, i = args[i + 1], i + 1
                rest += ["--", *args[i + 1 :]]
                break
            many = next((o for o in self.many if arg == o or arg.startswith(o + "=")), None)
            if many is not None:
                if program is not None or from_file:
                    collecting = many
                else:
                    early = many
            if arg in takes_value:
                step = 2 if takes_value[arg] else 1
                rest += args[i : i + step]
                i += step
                continue
            if collecting is not None and (arg == "-" or arg[:1] != "-") and not _BINDING.match(arg):
                rest += [collecting, arg]  # (- is stdin: a value, not an option)
            elif program is None and not (arg[:2] == "--" and arg[2:3].isalpha()):
                program = arg
            elif early is not None and arg[:1] != "-" and not _BINDING.match(arg):
                raise click.UsageError(
                    f"{arg} is neither a binding (NAME=VALUE) nor an option: several answer"
                    f" files go after PROGRAM ({early} a.txt b.txt), or each after its own {early}",
                    ctx=ctx,
                )
            elif arg[:1] == "-" and arg[1:2] not in ("", "-"):
                known = takes_value.get(arg[:2])
                raise click.NoSuchOption(
                    arg,
                    ctx=ctx,
                    message=(
                        f"No such option '{arg}': an option's value is the next argument"
                        f" ({arg[:2]} {arg[2:]})"
                        if known
                        else None
                    ),
                )
            else:
                rest.append(arg)
            i += 1
        remaining = super().parse_args(ctx, rest)
        if program is not None:
            ctx.params["args"] = (program, *ctx.params["args"])
        return remaining


_BINDING = re.compile(r"\s*[^\W\d]\w*\s*=")  # NAME=VALUE, as bindings are written


OLD_OUTPUT = "warning: write -o FILE (or --out FILE): --output NAME now picks the output"


def _old_output_spelling(args: list[str]) -> list[str]:
    """`--output out.svg`, as bpcli spelt -o before --output NAME picked the output: a value
    that is not a name (it has a dot or a slash) is a file, as --out, with a warning."""
    fixed: list[str] = []
    warned = False
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            fixed += args[i:]
            break
        value = args[i + 1] if arg == "--output" and i + 1 < len(args) else None
        if arg.startswith("--output="):
            value = arg.partition("=")[2]
        if value is not None and not value.isidentifier():
            if not warned:
                _tell(OLD_OUTPUT)
                warned = True
            fixed += ["--out", value]
            i += 1 if arg.startswith("--output=") else 2
            continue
        if value is not None and arg == "--output":  # --output NAME: the option and its value
            fixed += [arg, value]
            i += 2
            continue
        fixed.append(arg)
        i += 1
    return fixed


PROGRAM_RULE = """Arguments: PROGRAM is the first argument that is not one of the options
above exactly as written (-o FILE, --format json, --format=json), whatever
its first character: "-x*y", "-h*x" and "-offset" are programs. A short
option takes its value from the next argument (-o FILE, never -oFILE), and
an argument starting with -- and a letter is an option. A program that is
exactly an option (-h, -f, -o, …) goes after --, which ends the options
(bpcli grad -- -h h=1). Options may also follow the program and bindings.
PROGRAM is read from a file only when it is - (stdin), ends in .bp or .txt,
or starts with /, ./ or ../; any other argument is program text, even where
a file of that name exists (read such a file with -f FILE).

"""


def _quiet_pipe(command: Callable[Params, int]) -> Callable[Params, int]:
    """When the reader of stdout goes away (`bpcli grad … | head -1`), stop quietly.

    Click would exit with status 1 on a closed pipe; a closed pipe is not a failure, nor
    does it hide one: check and batch catch it themselves and keep the status they had."""
    import functools

    @functools.wraps(command)
    def wrapper(*args: Params.args, **kwargs: Params.kwargs) -> int:
        try:
            return command(*args, **kwargs)
        except BrokenPipeError:
            silence_stdout()
            return EXIT_OK

    return wrapper


@click.group(
    context_settings=CONTEXT,
    epilog="""\b
Examples:
  bpcli grad "(x+y)*z" x=-2 y=5 z=-4
  bpcli grad samples/neuron.bp --format json
  bpcli grad --help

Exit status: 0 ok, 1 wrong answers or failed problems, 2 bad input, 3 a bug in bpcli.""",
)
@click.version_option(
    __version__,
    "-V",
    "--version",
    prog_name="bpcli",
    message="%(prog)s, version %(version)s",
    help="Show the version and exit.",
)
@click.option("--debug", is_flag=True, help="Show a traceback when bpcli itself fails.")
def cli(debug: bool) -> None:
    """bpcli: a backpropagation calculator.

    Give it a program and the values of its variables; it builds the computational
    graph, runs the forward and backward passes, and shows every node's value, local
    gradient and upstream gradient, the way Stanford's cs231n teaches backprop.
    """


@cli.command(
    cls=ProgramCommand,
    context_settings=CONTEXT,
    epilog=PROGRAM_RULE + GRAD_EXAMPLES,
    short_help="f and its gradients, node by node (table, steps, tree, pictures, …).",
)
@program_operands
@format_option(
    GRAD_FORMATS,
    "table",
    "table, json, steps (the backward pass narrated), tree, dot (Graphviz), markdown, latex, csv, or"
    " html (a page to step through the backward pass in a browser).",
)
@click.option(
    "-o",
    "--out",
    "out",
    metavar="FILE",
    help="Write to FILE, in the format its extension names: .json, .jsonl (one line), .csv,"
    " .md, .tex, .dot, .txt (the table as plain text), .html (the report to step through), or"
    " .svg, .png, .pdf (the circuit drawn by Graphviz). Another extension needs --format.",
)
@output_options
@precision_option(
    "Decimals shown (numbers below 1 keep that many significant digits); JSON always carries full floats."
)
@click.option(
    "--max-rows",
    type=click.IntRange(0),
    default=400,
    show_default=True,
    help="Table rows shown before the middle of a big graph is left out; 0 shows all.",
)
@click.option(
    "--jacobian",
    "show_jacobians",
    is_flag=True,
    help="Also show each array node's local Jacobian (when it has at most 400 entries).",
)
@click.option("--gradcheck", is_flag=True, help="Check each gradient against central finite differences.")
@click.option(
    "--expand",
    is_flag=True,
    help="Draw sigmoid, tanh, norm, dot, softmax, logsoftmax and logsumexp as their circuits of"
    " primitive gates.",
)
@click.option(
    "--wrt",
    "wrt_args",
    multiple=True,
    metavar="NAMES",
    help="Compute and show ∂f/∂ for these names only (comma-separated, repeatable): nodes that"
    " depend on none of them get no gradient.",
)
@click.option(
    "--depth",
    type=click.IntRange(0),
    metavar="N",
    help="Show each call more than N calls deep as one gate, rnn_step_forward(…), with its"
    " result's value and gradient and what it sends back to its inputs (table and steps;"
    " --depth 0: every call of the program's own functions). Loops are never collapsed."
    " Default: every node.",
)
@lang_option("The language of the narration (--format steps and html).")
@seed_option
@max_elements_option
@full_option
@_quiet_pipe
def grad(
    args: tuple[str, ...],
    program_file: str | None,
    output_format: str,
    out: str | None,
    output_name: str | None,
    upstream: str | None,
    precision: int,
    max_rows: int,
    show_jacobians: bool,
    gradcheck: bool,
    expand: bool,
    wrt_args: tuple[str, ...],
    lang: str,
    seed: int | None,
    max_elements: int = MAX_ELEMENTS,
    full: bool = False,
    depth: int | None = None,
) -> int:
    """Compute f and ∂f/∂v for every input v, showing each node of the backward pass.

    PROGRAM is the program text, a file of it (.bp, .txt, ./path), or - for stdin.
    Statements are separated by newlines or ";"; the last one is the output f (or the one
    --output NAME names; --upstream gives an array output its gradient). A name assigned a number
    (x = -2) is an input; NAME=VALUE arguments give inputs values, and override such
    assignments. Values are numbers, arrays ([0.2, 0.4]), files (@W.npy, @x.csv) or
    randn(2,3), rand(…), zeros(…), ones(…). Programs are numpy's forward passes as
    written (np. optional): calls with axis=, indexing, index assignment, reshapes; and
    the Python around them, run as a tracer runs it: def, for, if, classes, dicts, lists
    (a pasted function with one line calling it).
    """
    from bpcli.present.grad import PICTURES, View, render
    from bpcli.texts import Translator

    extension = os.path.splitext(out)[1].lower() if out is not None else ""
    picture = extension in PICTURES
    if out is not None:
        _refuse_to_overwrite_an_input(out, args, program_file)
        output_format = _out_format(out, output_format, _given("output_format"))
    run = _computed_run(args, program_file, seed, expand, max_elements, wrt_args, output_name, upstream)
    wrt = _names(run.graph, wrt_args)
    checks = None
    if gradcheck:
        from bpcli.grading.gradcheck import gradcheck as run_gradcheck

        checks = run_gradcheck(run, wrt)
        run = run.with_warnings(
            [
                f"--gradcheck: the step for {check.name} crosses a kink; its numeric gradient means nothing"
                " there (n/a)"
                for check in checks
                if check.kinks
            ]
            + [
                f"--gradcheck: the step for {check.name} flips a comparison; its numeric gradient means"
                " nothing there (n/a)"
                for check in checks
                if check.flips and not check.kinks
            ]
        )
    _warn(run.warnings)
    if picture:
        from bpcli.present.dot import render as draw
        from bpcli.present.dot import to_dot

        draw(to_dot(run, precision), out)  # type: ignore[arg-type]
        click.echo(f"wrote {out}", err=True)
        return EXIT_OK
    terminal = out is None and sys.stdout.isatty()
    indent = 2 if terminal or (extension == ".json" and output_format == "json") else None
    view = View(
        precision,
        max_rows,
        show_jacobians,
        wrt,
        checks,
        indent,
        Translator(lang),
        full,
        depth,
        screen_width(sys.stdout if out is None else None),
    )
    parts = render(run, output_format, view)
    _emit(parts, out, view.width)
    return EXIT_OK


# -o FILE: the formats a file of each extension holds, the one written without --format first
OUT_FORMATS: dict[str, tuple[str, ...]] = {
    ".json": ("json",),
    ".jsonl": ("json",),  # the JSON document on one line: a JSON Lines file of one record
    ".csv": ("csv",),
    ".md": ("markdown",),
    ".tex": ("latex",),
    ".dot": ("dot",),
    ".txt": ("table", "steps", "tree"),  # plain text, as a terminal shows it but without colour
    ".html": ("html",),  # the page to step through the backward pass in a browser
    ".svg": ("dot",),  # the circuit drawn by Graphviz
    ".png": ("dot",),
    ".pdf": ("dot",),
}
WHAT = {
    ".json": "JSON",
    ".jsonl": "JSON on one line",
    ".csv": "CSV",
    ".md": "Markdown",
    ".tex": "LaTeX",
    ".dot": "Graphviz's dot text",
    ".txt": "plain text (the table, steps or tree)",
    ".html": "the HTML report",
}


def _extension(out: str) -> str:
    """-o FILE's extension, lower case; .htm is .html (as Windows names it)."""
    extension = os.path.splitext(out)[1].lower()
    return ".html" if extension == ".htm" else extension


def _out_format(out: str, output_format: str, given: bool) -> str:
    """The format -o FILE is written in: the one its extension names, or --format's where the
    extension names none; a --format that contradicts the extension is a usage error."""
    extension = _extension(out)
    formats = OUT_FORMATS.get(extension)
    if formats is None:
        if given:
            return output_format
        known = " ".join(OUT_FORMATS)
        what = f"the extension {extension} names no format" if extension else "no extension names its format"
        raise click.UsageError(
            f"-o {out}: {what}\nknown extensions: {known}\nor --format picks one: -o {out} --format json"
        )
    if not given:
        return formats[0]
    if output_format in formats:
        return output_format
    if formats == ("dot",) and extension != ".dot":
        wanted = f"-o {out} draws the circuit with Graphviz; it goes with --format dot"
    else:
        wanted = f"-o {out} holds {WHAT[extension]}, not --format {output_format}"
    suffixes = [e for e, fs in OUT_FORMATS.items() if output_format in fs and e not in PICTURES]
    raise click.UsageError(
        f"{wanted}\nwrite {output_format} to a {' or '.join(suffixes)} file, or leave out --format"
    )


def _given(parameter: str) -> bool:
    """Whether the command line gave this option (not its default)."""
    from click.core import ParameterSource

    source = click.get_current_context().get_parameter_source(parameter)
    return source not in (None, ParameterSource.DEFAULT)


def _names(graph: Graph, args: tuple[str, ...]) -> list[str] | None:
    """--wrt NAMES: the names, checked against the program's."""
    names = [n.strip() for arg in args for n in arg.split(",") if n.strip()]
    if not names:
        return None
    unknown = [n for n in names if n not in graph.names]
    if unknown:
        raise BpcliError(
            f"--wrt names {', '.join(unknown)}, which the program does not have",
            hint="the program's names are " + ", ".join(sorted(graph.names)),
        )
    return names


def _emit(parts: Sequence[Part], output: str | None, width: int = 80) -> None:
    """Print text, pieces of text (an iterator: JSON written a piece at a time) and Rich
    renderables to stdout, or write them to a file: plain, laid out in `width` columns, and
    only once all of it is made (an error on the way leaves no file, nor half of one)."""
    if output is None:
        write_parts(parts, sys.stdout)
        return
    import shutil
    import tempfile

    with tempfile.SpooledTemporaryFile(max_size=1 << 24, mode="w+", encoding="utf-8") as made:
        write_parts(parts, made, plain_console(made, width))
        made.seek(0)
        existed = os.path.lexists(output)
        try:
            with open(output, "w", encoding="utf-8") as handle:
                shutil.copyfileobj(made, handle, 1 << 20)
        except OSError as err:
            if not existed:  # (what was written of it is no output)
                with contextlib.suppress(OSError):
                    os.remove(output)
            raise InputError(f"cannot write {output}: {err.strerror or err}") from None
    click.echo(f"wrote {output}", err=True)


CHECK_EXAMPLES = """\b
Examples:
  bpcli check "q = x + y; f = q*z" x=-2 y=5 z=-4 -e q=3 -e dq=-4 -e dz=3
  bpcli check samples/neuron.bp --answers samples/neuron_answers.txt
  bpcli check samples/neuron.bp -e dx0=0.39 -e dw0=-0.2 --format json
  bpcli check samples/simple.bp -e dx=-4.1 --tol 5%
  bpcli check samples/homework/softmax.bp --answers samples/homework/class
  bpcli check samples/homework/softmax.bp --answers class/*.txt --format csv

An answer names a forward value (x, q, f) or a gradient: dq, df/dq, ∂f/∂q
or grad(q); f is the output, unless the program has a name f of its own;
for an output named L, also dL/dq, ∂L/∂q and dL_dq. An answer with k
decimals is right within half a unit of its last decimal (0.39 for 0.3932);
whole numbers (-4, -1/3) must be exact; an expression of rounded numbers
(0.22*0.5) is right within their rounding. Arrays may be written as numpy
prints them ([[0.1 0.2] [0.3 0.4]], array([…])), over several lines in a
file, or read from one: dW=@dW.npy (exact), dW=@dW.csv. One number for
every element: db = all(0.5) (a lone 0.5 for an array is a wrong shape).

A whole class: after PROGRAM, --answers takes several files (every later
argument that is not an option nor NAME=VALUE) or a directory (its .txt
files, sorted by name; other files are skipped, with a note). The program
is run once; each file is checked against that run. The report is a table
with a row a student and a summary of mistakes; --format jsonl and csv give
a record a student, json a document of all. A file that cannot be read or
checked is an error row (or record) and the others go on.

Exit status: 0 every answer right (every student's, for a class); 1 some
wrong, or some file of a class could not be checked; 2 bad input that stops
everything (the program, the options, a single answers file, no files);
3 a bug in bpcli.
"""


class CheckCommand(ProgramCommand):
    many = ("-a", "--answers")
    old_output = False  # check's --output always named the output


@cli.command(
    cls=CheckCommand,
    context_settings=CONTEXT,
    epilog=PROGRAM_RULE + CHECK_EXAMPLES,
    short_help="Check a hand derivation (or a class's) and name the first wrong step.",
)
@program_operands
@click.option(
    "-e", "--expect", "expected", multiple=True, metavar="NAME=VALUE", help="An answer to check (repeatable)."
)
@click.option(
    "-a",
    "--answers",
    "answers_files",
    multiple=True,
    metavar="FILE...",
    help="A file of answers, one NAME=VALUE (or NAME: VALUE) a line, # comments; - for stdin."
    " Several files, or a directory of .txt files, check a whole class.",
)
@click.option(
    "--tol",
    metavar="TOL",
    help="Compare with this absolute tolerance (0.01), or relative one (1%), instead"
    " of by the answers' rounding.",
)
@output_options
@format_option(
    ["table", "json", "jsonl", "csv", "html"],
    "table",
    "How to show the report; jsonl and csv give a record a student (a class); html a page with"
    " the answers marked on the circuit.",
)
@click.option(
    "-o",
    "--out",
    "out",
    metavar="FILE",
    help="Write one student's report to FILE, in the format its extension names: .html (the"
    " answers on the circuit, in a page to step through), .json or .txt.",
)
@precision_option("Decimals shown for the true values.")
@lang_option("The language of the diagnoses.")
@seed_option
@max_elements_option
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A class: a progress bar on stderr (default: when stderr is a terminal).",
)
@_quiet_pipe
def check(
    args: tuple[str, ...],
    program_file: str | None,
    expected: tuple[str, ...],
    answers_files: tuple[str, ...],
    tol: str | None,
    output_name: str | None,
    upstream: str | None,
    output_format: str,
    out: str | None,
    precision: int,
    lang: str,
    seed: int | None,
    max_elements: int = MAX_ELEMENTS,
    progress: bool | None = None,
) -> int:
    """Check a hand derivation: which answers are wrong, where it broke, and the likely mistake.

    PROGRAM and the bindings are as for `bpcli grad`. Each answer gives a forward value or a
    gradient; the report marks each right or wrong, points at the first wrong step, and
    names the likely mistake: a wrong shape (transposed, a broadcast not summed back), a
    sign, a constant factor (the 1/N of a mean, the 2 of a square), a forgotten upstream or
    local gradient (relu's mask), a missed fan-out branch (the regularisation, softmax's
    p − onehot(y)), swapped inputs, a max routed the wrong way, a wrong forward value, or
    early rounding. One mistake behind several wrong answers is named once.
    """
    from bpcli.grading.answers import expectations, parse_tolerance, read_answers, split_answer
    from bpcli.grading.diagnose import check as run_check
    from bpcli.texts import Translator

    if output_name is not None and not output_name.isidentifier():
        raise click.UsageError(
            f"--output {output_name}: --output NAME names the output;\ncheck writes its report to"
            " stdout (redirect it: > FILE)"
        )
    program_from_stdin = program_file == "-" if program_file is not None else args[:1] == ("-",)
    if "-" in answers_files and program_from_stdin:
        raise click.UsageError(
            "the program and the answers cannot both come from stdin: put one of them in a file"
        )
    class_check = (
        len(answers_files) > 1 or output_format in CLASS_FORMATS or any(map(os.path.isdir, answers_files))
    )
    if out is not None:
        if class_check:
            raise click.UsageError("-o FILE is for one student's answers; redirect a class's report: > FILE")
        _refuse_to_overwrite_an_input(out, (*args, *answers_files, *expected), program_file)
        output_format = _check_out_format(out, output_format, _given("output_format"))
    if class_check:
        if output_format == "html":  # (a page steps through one student's answers on one circuit)
            raise click.UsageError(
                "--format html is for one student's answers; a class's report is table, json, jsonl or csv"
            )
        if expected:
            raise click.UsageError("--expect goes with one student's answers, not with a class's files")
        if not answers_files:
            raise click.UsageError(f"--format {output_format} is for a class: give --answers FILE...")
        tolerance = parse_tolerance(tol) if tol is not None else None
        run = _computed_run(
            args, program_file, seed, max_elements=max_elements, output=output_name, upstream=upstream
        )
        files = _answer_files(answers_files)  # after the run: its notes only when the program is good
        return _check_class(run, files, tolerance, output_format, Translator(lang), progress)
    answers_file = answers_files[0] if answers_files else None
    pairs: list[tuple[str, str, str | None]] = [(*split_answer(text), None) for text in expected]
    if answers_file is not None:
        where = "stdin" if answers_file == "-" else answers_file
        base = None if answers_file == "-" else os.path.dirname(answers_file)
        pairs += read_answers(read_text(answers_file), where, base)
    if not pairs:
        raise click.UsageError("no answers to check: give --expect NAME=VALUE or --answers FILE")
    tolerance = parse_tolerance(tol) if tol is not None else None
    run = _computed_run(
        args, program_file, seed, max_elements=max_elements, output=output_name, upstream=upstream
    )
    names = set(run.graph.names)
    tr = Translator(lang)
    verdicts = run_check(run, expectations(pairs, names, run.graph.output.name), tolerance)
    status = EXIT_OK if all(v.ok for v in verdicts) else EXIT_FAILED
    try:  # a reader that goes away (| head -1) changes nothing: wrong answers are still wrong
        _warn(run.warnings)
        if out is not None or output_format == "html":
            _emit(_check_parts(run, verdicts, output_format, precision, tr), out)
        elif output_format == "json":
            from bpcli.present.check import check_document
            from bpcli.present.jsonout import dumps

            document = check_document(verdicts, run.graph, run.warnings, precision, tr)
            click.echo(dumps(document, indent=2 if sys.stdout.isatty() else None))
        else:
            from bpcli.present.check import check_report

            console = make_console()
            for renderable in check_report(verdicts, run.graph, precision, tr, console.width):
                console.print(renderable)
    except BrokenPipeError:
        silence_stdout()
    return status


# check -o FILE: the format of each extension
CHECK_OUT_FORMATS = {".html": "html", ".json": "json", ".txt": "table"}


def _check_out_format(out: str, output_format: str, given: bool) -> str:
    """The format check -o FILE writes: its extension's, which a --format must agree with."""
    extension = _extension(out)
    named = CHECK_OUT_FORMATS.get(extension)
    if named is None:
        if given:
            return output_format
        raise click.UsageError(
            f"-o {out}: {'the extension ' + extension if extension else 'no extension'} names no format"
            f"\nknown extensions: {' '.join(CHECK_OUT_FORMATS)}"
        )
    if given and output_format != named:
        raise click.UsageError(f"-o {out} holds {named}, not --format {output_format}")
    return named


def _check_parts(
    run: Run, verdicts: list[Verdict], output_format: str, precision: int, tr: Translator
) -> list[Part]:
    """One student's report in a format, as parts to write (to stdout or -o's file)."""
    if output_format == "html":
        from bpcli.present.grad import View, json_text
        from bpcli.present.html import check_parts

        return [check_parts(run, json_text(run, View(precision, tr=tr)), verdicts, precision, tr)]
    if output_format == "json":
        from bpcli.present.check import check_document
        from bpcli.present.jsonout import dumps

        return [dumps(check_document(verdicts, run.graph, run.warnings, precision, tr), indent=2) + "\n"]
    from bpcli.present.check import check_report

    return [*check_report(verdicts, run.graph, precision, tr)]


# --- check: a whole class --------------------------------------------------------------------

CLASS_FORMATS = ("jsonl", "csv")


def _answer_files(arguments: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """The files --answers names, each with None, or the error that makes it an error row: a
    directory stands for its .txt files, sorted by name (hidden files, other files and
    subdirectories are skipped, with a note on stderr); one with none is an error row."""
    from bpcli.grading.answers import ANSWERS_SUFFIX, answers_files

    if arguments.count("-") > 1:  # (before any note on stderr: the error comes alone)
        raise click.UsageError("--answers - (stdin) can be given once")
    files: list[tuple[str, str | None]] = []
    seen: dict[str, str] = {}  # a file's real path -> how it was first named
    for argument in arguments:
        if argument == "-" or not os.path.isdir(argument):
            if _named_before(argument, seen):
                continue
            files.append((argument, None))  # whatever it is: a file that cannot be read is an error row
            continue
        try:
            taken, skipped = answers_files(argument)
        except OSError as err:
            files.append((argument, f"cannot read the directory {argument}: {err.strerror or err}"))
            continue
        if skipped and taken:
            shown = ", ".join(skipped[:5]) + (", …" if len(skipped) > 5 else "")
            _tell_folded(
                f"note: {argument}: skipped {len(skipped)}, not {ANSWERS_SUFFIX} files to check ({shown})"
            )
        if not taken:
            files.append((argument, f"{argument} is a directory with no {ANSWERS_SUFFIX} files"))
        files += [
            (os.path.join(argument, e), None)
            for e in taken
            if not _named_before(os.path.join(argument, e), seen)
        ]
    if all(error is not None for _, error in files):
        raise InputError(
            "no answers files to check: " + ", ".join(arguments) + f" holds no {ANSWERS_SUFFIX} files"
        )
    return files


def _named_before(file: str, seen: dict[str, str]) -> bool:
    """Whether `file` is a file named already (the same real path), with a note if so: a
    student given twice (a directory and a glob of it) is checked and counted once."""
    if file == "-":
        return False
    real = os.path.realpath(file)
    if real not in seen:
        seen[real] = file
        return False
    first = seen[real]
    again = "named twice" if first == file else f"the file {first} again"
    _tell(f"note: {file} is {again}: checked once")
    return True


def _check_class(
    run: Run,
    files: list[tuple[str, str | None]],
    tol: Tolerance | None,
    output_format: str,
    tr: Translator,
    progress: bool | None,
) -> int:
    """Check each file's answers against the one run; then the class report or its records."""
    from bpcli.core.run import freeze
    from bpcli.present import classroom

    _warn(run.warnings)
    freeze(run)
    students = []
    internal = False
    # JSON Lines into a file or a pipe go out a student at a time, so that an interrupted
    # class keeps the records it has (on a terminal, at the end: never under the progress bar)
    streamed = output_format == "jsonl" and not sys.stdout.isatty()
    streaming = streamed  # (until the reader goes away)
    stdout = sys.stdout
    with ProgressBar(progress, "checking", "files", total=len(files)) as bar:
        for done, (file, error) in enumerate(files, 1):
            if error is not None:
                student = classroom.unreadable(file, error)
            else:
                student, bug = _student(run, file, tol)
                internal = internal or bug
            students.append(student)
            if streaming:
                streaming = _write_record(classroom.student_record(student), stdout)
            bar.advance(done)
    failed = [s for s in students if s.error is not None]
    try:
        if streamed:
            pass  # (written as they were checked)
        elif output_format == "table":
            console = make_console()
            for part in classroom.class_report(students, tr):
                console.print(part)
        else:
            from bpcli.present.jsonout import dumps

            if output_format == "jsonl":
                text = "".join(dumps(classroom.student_record(s)) + "\n" for s in students)
            elif output_format == "csv":
                from bpcli.present.records import csv_rows

                text = csv_rows(classroom.csv_table(students))
            else:
                document = classroom.class_document(students, run.warnings)
                text = dumps(document, indent=2 if sys.stdout.isatty() else None) + "\n"
            sys.stdout.write(text)
            sys.stdout.flush()
    except BrokenPipeError:
        silence_stdout()
    if failed:
        names = [s.file for s in failed]
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        bugs = " (some by a bug in bpcli: see their rows)" if internal else ""
        _tell_folded(f"bpcli check: {len(failed)} of {len(files)} files could not be checked ({shown}){bugs}")
    if internal:
        return EXIT_INTERNAL
    if failed or any(s.correct < s.total for s in students):
        return EXIT_FAILED
    return EXIT_OK


def _write_record(record: dict[str, object], stdout: IO[str]) -> bool:
    """One JSON Lines record on stdout, flushed; False once the reader has gone away."""
    from bpcli.present.jsonout import dumps

    try:
        stdout.write(dumps(record) + "\n")
        stdout.flush()
    except BrokenPipeError:
        silence_stdout()
        return False
    return True


def _student(run: Run, file: str, tol: Tolerance | None) -> tuple[Student, bool]:
    """One file's answers checked against the run, or the error that stopped it (and whether
    that error is a bug in bpcli)."""
    from bpcli.grading.answers import read_answers
    from bpcli.present.classroom import grade, unreadable

    name = "stdin" if file == "-" else file
    try:
        pairs = read_answers(read_text(file), name, None if file == "-" else os.path.dirname(file))
        return grade(run, pairs, name, tol), False
    except BpcliError as err:
        return unreadable(name, str(err)), False
    except MemoryError:
        return unreadable(name, "out of memory"), False
    except Exception as err:  # a bug in bpcli: this student's row says so, the class goes on
        if click.get_current_context().find_root().params.get("debug"):
            raise
        detail = f"{type(err).__name__}: {err}"
        detail = detail if len(detail) <= 300 else detail[:300] + "…"
        return unreadable(name, f"internal error: {detail}; this is a bug in bpcli, please report it"), True


BATCH_EXAMPLES = """\b
Examples:
  cat samples/problems.txt | bpcli batch > results.jsonl
  bpcli batch samples/problems.txt --format csv > grads.csv
  bpcli batch samples/*.bp --format table
  bpcli batch problems.jsonl --jobs 2
  bpcli batch samples/points.jsonl --program samples/neuron.bp
  bpcli batch samples/problems.txt --bind w2=-3 --at "w0=2 x0=-1"

\b
Text input has one problem a line, a program with its inputs assigned:
  x=-2; y=5; z=-4; f=(x+y)*z
A .bp file is one problem (for programs of several lines). JSON Lines
records are
  {"program": "(x+y)*z", "bindings": {"x": -2, "y": 5}, "id": "p1"}
with "output": "q" and "upstream": "dout=[1, -1]" (or a number or list) as
grad's --output and --upstream; with --program, a line is just the
bindings: {"x": -2} or x=-2 y=5.
Exit status: 0 every problem solved, 1 some failed (see their error
records), 2 bad arguments or unreadable input, 3 a record reports a bug in
bpcli; 130, 143, 129 stopped by Ctrl-C, SIGTERM, SIGHUP (the records
written are whole).
"""


@cli.command(
    context_settings=CONTEXT,
    epilog=BATCH_EXAMPLES,
    short_help="Many problems in, one JSON record (or CSV row) each out.",
)
@click.argument("inputs", nargs=-1, metavar="[FILE]...")
@format_option(
    ["jsonl", "table", "csv"],
    "jsonl",
    "The output: a JSON record a problem, a table a problem, or a CSV row a problem and gradient.",
)
@click.option(
    "--input-format",
    type=click.Choice(["auto", "text", "jsonl"]),
    default="auto",
    show_default=True,
    help="auto: lines starting with { are JSON records.",
)
@click.option(
    "--program",
    "program_arg",
    metavar="PROGRAM",
    help="One program (text or file) for every line; the lines give its bindings.",
)
@click.option(
    "--bind",
    "binds",
    multiple=True,
    metavar="NAME=VALUE",
    help="A binding for every problem (repeatable); a problem's own bindings win.",
)
@click.option(
    "--at",
    "ats",
    multiple=True,
    metavar='"NAME=VALUE ..."',
    help="Several bindings for every problem, separated by spaces.",
)
@output_options
@click.option("--nodes", is_flag=True, help="Put every node in each JSON record, as grad does.")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 256),
    default=1,
    show_default=True,
    help="Worker processes; the output order stays the input order.",
)
@precision_option("Decimals in tables.")
@seed_option
@click.option(
    "--progress/--no-progress",
    default=None,
    help="A progress bar on stderr (default: when stderr is a terminal).",
)
@max_elements_option
@full_option
@_quiet_pipe
def batch(
    inputs: tuple[str, ...],
    output_format: str,
    input_format: str,
    program_arg: str | None,
    binds: tuple[str, ...],
    ats: tuple[str, ...],
    output_name: str | None,
    upstream: str | None,
    nodes: bool,
    jobs: int,
    precision: int,
    seed: int | None,
    progress: bool | None,
    max_elements: int = MAX_ELEMENTS,
    full: bool = False,
) -> int:
    """Solve many problems from files or stdin; one result per problem, in input order.

    FILE is a text file of problems, a .jsonl file of records, a .bp file of one program,
    or - for stdin (the default). A problem that fails becomes an error record
    {"source", "line", "error"} and the batch goes on.
    """
    from bpcli.batch.driver import solve_all
    from bpcli.batch.solve import Options
    from bpcli.language.bindings import parse_bindings, split_bindings
    from bpcli.language.parse import check_syntax
    from bpcli.present.records import csv_header

    if program_arg == "-" and "-" in (inputs or ("-",)):
        raise click.UsageError(
            "--program - and the problems cannot both come from stdin: put one of them in a file"
        )
    if output_name is not None and not output_name.isidentifier():
        raise click.UsageError(
            f"--output {output_name}: --output NAME names the output; batch writes its records to"
            " stdout (redirect them: > FILE)"
        )
    interrupt = Interrupt()
    out = RecordWriter(sys.stdout, interrupt=interrupt)
    # Before a read that would wait for input, the records solved so far go out.
    sources = batch_sources(inputs or ("-",), idle=out.flush)
    program = None
    if program_arg is not None:
        if (
            not _names_a_file(program_arg)
            and _PATHLIKE.fullmatch(program_arg)
            and any(os.path.isfile(program_arg + suffix) for suffix in PROGRAM_SUFFIXES)
        ):  # (the lines' bindings are not known yet: a file with .bp added is what decides)
            raise InputError(f"no file {program_arg}", hint=_did_you_mean(program_arg))
        program = _program_text(program_arg)
        check_syntax(program)  # once, here: not an error record for every line
    common = parse_bindings(
        [*binds, *(piece for at in ats for piece in split_bindings(at))], seed, max_elements=max_elements
    )
    options = Options(
        output_format,
        nodes,
        precision,
        program,
        common,
        seed,
        input_format,
        max_elements,
        full,
        output_name,
        upstream,
        # a table fits the terminal (COLUMNS wins); in a pipe or file, 80 columns unless COLUMNS
        # says otherwise, so that a pager or an editor shows it whole
        screen_width(sys.stdout) if output_format == "table" else 80,
    )
    if output_format == "csv":
        out.write(csv_header())
    failed = 0  # a count, and where the first few failed: memory stays flat however many fail
    first_failed: list[str] = []
    status = EXIT_OK
    total = 0
    results = solve_all(sources, options, jobs)
    write = out.write if jobs == 1 else out.write_now  # (a worker's run goes out as it comes)
    bar = ProgressBar(progress, total=lambda: count_problems(inputs or ("-",)))
    if bar.wanted and is_terminal(sys.stdout):
        out.bar = bar  # records on the bar's terminal: the bar is cleared before them
    try:
        with interrupt, bar:
            try:
                for text, failures, count in results:
                    total += count
                    for source, line, code in failures:
                        failed += 1
                        if len(first_failed) < 5:
                            first_failed.append(f"{source}:{line}")
                        status = max(status, code)
                    bar.advance(total)  # (first: the bar drawn again after these records counts them)
                    write(text)
            except BrokenPipeError:  # the reader went away: the problems solved so far decide
                silence_stdout()
            finally:
                results.close()  # workers stop now, not when the generator is collected
                with contextlib.suppress(BrokenPipeError):
                    out.close()  # whole records only, whatever stopped the batch
    except KeyboardInterrupt:
        if not interrupt.requested:
            raise
        return _fail(interrupt.message, interrupt.exit_status)
    if failed:
        shown = ", ".join(first_failed) + (", …" if failed > 5 else "")
        bugs = " (some of them by a bug in bpcli: see their records)" if status == EXIT_INTERNAL else ""
        _tell_folded(f"bpcli batch: {failed} of {total} problems failed ({shown}){bugs}")
        return status
    return EXIT_OK


# --- reading programs ---------------------------------------------------------------------


def _computed_run(
    args: tuple[str, ...],
    program_file: str | None,
    seed: int | None,
    expand: bool = False,
    max_elements: int = MAX_ELEMENTS,
    wrt_args: tuple[str, ...] = (),
    output: str | None = None,
    upstream: str | None = None,
) -> Run:
    """Read the program and its bindings, build the graph and run both passes (the backward
    pass only as far as --wrt's names need); `output` (--output NAME) picks the output,
    `upstream` (--upstream [NAME=]VALUE) gives the gradient that flows into it."""
    from bpcli.core.engine import run
    from bpcli.language.bindings import parse_bindings, parse_upstream
    from bpcli.language.parse import parse

    source, binding_args = _program_and_bindings(args, program_file)
    rng: list[Generator] = []  # one generator: --upstream's randn(…) draws after the bindings'
    bindings = parse_bindings(binding_args, seed, max_elements=max_elements, rng=rng)
    seeded = None if upstream is None else parse_upstream(upstream, seed, rng, max_elements=max_elements)
    try:
        graph = parse(source, bindings, expand, max_elements, seed, output, seeded)
    except BpcliError as err:
        if output is not None and err.message == f"the output {output} is not a name in the program":
            note = f"to write to a file named {output}, give -o {output}"  # the old --output FILE
            err.hint = f"{err.hint}\n{note}" if err.hint else note
        if program_file is None and args and source is args[0]:
            missing = _missing_file(source, err)
            if missing is not None:
                raise missing from None
        if program_file is None and _is_file(source):
            note = (
                f"{source} was read as program text, not as the file of that name: a"
                " program is read from a file only when it ends in .bp or .txt or starts"
                f" with / or ./ (or with -f {source})"
            )
            err.hint = f"{err.hint}\n{note}" if err.hint else note
        raise
    for line in graph.printed:  # the program's print(…), on stderr: never mixed with results
        _tell(line)
    for note in graph.notes:
        _tell_folded(f"note: {note}")
    return run(graph, record=True, wrt=_names(graph, wrt_args))


def _is_file(text: str) -> bool:
    try:
        return len(text) < 4096 and "\n" not in text and os.path.isfile(text)
    except (OSError, ValueError):
        return False


def _warn(warnings: Sequence[str]) -> None:
    for warning in warnings:
        _tell_folded(f"warning: {warning}")


def _program_and_bindings(args: tuple[str, ...], program_file: str | None) -> tuple[str, list[str]]:
    if program_file is not None:
        dashed = [arg for arg in args if arg.startswith("-")]
        if dashed:  # with -f there is no PROGRAM argument, and a binding never starts with -
            raise click.UsageError(
                f"No such option: {dashed[0]} (with -f FILE every argument is a NAME=VALUE binding)"
            )
        return read_text(program_file), list(args)
    if not args:
        raise click.UsageError("missing PROGRAM: give the program text, a file, or - for stdin")
    return _program_text(args[0]), list(args[1:])


def _refuse_to_overwrite_an_input(output: str, args: tuple[str, ...], program_file: str | None) -> None:
    """-o must not write over the program's file or a binding's file (`-o neuron.bp`)."""
    if program_file is not None:
        inputs = [program_file, *args]
    else:
        inputs = [args[0]] if args and _names_a_file(args[0]) else []
        inputs += args[1:]
    paths = [text.partition("=@")[2] if "=@" in text else text for text in inputs]
    for path in paths:
        try:
            same = path != "-" and os.path.samefile(output, path)
        except (OSError, ValueError):  # either does not exist (yet): nothing to overwrite
            same = False
        if same:
            raise InputError(
                f"-o {output} would write over {path}, which this command reads", hint="give -o another file"
            )


def _names_a_file(argument: str) -> bool:
    """The rule for PROGRAM (and batch --program): a file when it is - (stdin), ends in .bp or
    .txt, or starts with /, ./ or ../, none of which a program can; else it is program text,
    even where a file of that name exists (`bpcli grad x x=2` is the program x)."""
    return argument == "-" or argument.endswith(PROGRAM_SUFFIXES) or argument.startswith(("/", "./", "../"))


def _program_text(argument: str) -> str:
    """The program an argument gives: read from the file it names, or the argument itself."""
    if not _names_a_file(argument):
        return argument
    try:
        return read_text(argument)
    except InputError as err:
        if argument != "-" and not os.path.lexists(argument):
            err.hint = _did_you_mean(argument) or err.hint
        raise


# Program text that looks like a path: a "/" and nothing but names, dots, dashes and slashes
_PATHLIKE = re.compile(r"[\w.\-/]*/[\w.\-/]*")


def _missing_file(text: str, err: BpcliError) -> InputError | None:
    """The error to give instead of `err` when program text is a path with no file behind it
    (`samples/neuron`, the .bp forgotten): it looks like a path, a file of that name with .bp
    or .txt exists or its directory does, and as a program it cannot be read or has names
    with no value (so `x/y` with x and y bound stays a division)."""
    unbound = isinstance(err, ParseError) or err.message.startswith("no value for")
    if unbound and _PATHLIKE.fullmatch(text) and os.path.isdir(text):
        return InputError(
            f"{text} is a directory, not a program",
            hint=_did_you_mean(text.rstrip("/") + "/") or "a program is text, or a .bp or .txt file",
        )
    if not unbound or not _PATHLIKE.fullmatch(text) or os.path.lexists(text):
        return None
    directory = os.path.dirname(text)
    with_suffix = any(os.path.isfile(text + suffix) for suffix in PROGRAM_SUFFIXES)
    if not with_suffix and not (directory and os.path.isdir(directory)):
        return None
    return InputError(f"no file {text}", hint=_did_you_mean(text) or f"read as program text: {err.message}")


def _did_you_mean(path: str) -> str:
    """ "did you mean …?" with the program files nearest `path`: it with .bp or .txt added, or
    the names in its directory closest to its own (difflib); "" when none is near."""
    import difflib

    found = [path + suffix for suffix in PROGRAM_SUFFIXES if os.path.isfile(path + suffix)]
    if not found:
        directory, name = os.path.split(path)
        try:
            with os.scandir(directory or ".") as entries:
                names = [e.name for e in itertools.islice(entries, 5000) if e.is_file()]
        except OSError:
            names = []
        found = [os.path.join(directory, n) for n in difflib.get_close_matches(name, names, n=3, cutoff=0.6)]
    return f"did you mean {' or '.join(found)}?" if found else ""


# --- the error boundary --------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit status; errors become `error: …` on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        result = cli.main(args=args, prog_name="bpcli", standalone_mode=False)
    except BpcliError as err:
        return _fail_with(err, EXIT_BAD_INPUT)
    except click.exceptions.Exit as err:
        return err.exit_code
    except click.exceptions.NoArgsIsHelpError as err:  # plain `bpcli`: the help, not an error
        click.echo(err.format_message())
        return EXIT_OK
    except click.ClickException as err:
        ctx = getattr(err, "ctx", None)  # a UsageError's command; other click errors have none
        where = f"\nTry '{ctx.command_path} --help' for help." if ctx else ""
        return _fail(err.format_message() + where, EXIT_BAD_INPUT)
    except (click.exceptions.Abort, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        silence_stdout()
        return EXIT_OK
    except MemoryError:
        return _fail(
            "out of memory: the program or its arrays are too big for this machine"
            " (see Limits in the README)",
            EXIT_BAD_INPUT,
        )
    except Exception as err:  # a bug in bpcli: say so plainly
        if isinstance(err, OSError) and err.errno in WRITE_ERRORS:  # not a bug: a full disk
            return _fail(f"cannot write the output: {err.strerror or err}", EXIT_BAD_INPUT)
        if "--debug" in args:
            raise
        return _fail(
            f"internal error: {type(err).__name__}: {err}\nThis is a bug in bpcli;"
            " please report it with the command you ran (run with --debug for"
            " details).",
            EXIT_INTERNAL,
        )
    if isinstance(result, int):
        return result
    return EXIT_OK


# What writing the output can meet: a full disk or quota, a file too big, a device error,
# no output at all (started with stdout closed).
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF})


class _Closed:
    """Standard output when the process was started without one."""

    def write(self, text: str) -> int:
        raise OSError(errno.EBADF, "standard output is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _fail(message: str, code: int) -> int:
    _tell(f"error: {message}")
    return code


def _fail_with(err: BpcliError, code: int) -> int:
    """`error: …` for a person: the source line shown as a window around its caret within
    stderr's width (80 in a pipe), the hint folded to a terminal's; the message stays one
    line, to search for."""
    from bpcli.cells import cells
    from bpcli.present.fold import fold

    columns = screen_width(sys.stderr)
    message, context, hint = err.lines(columns)
    lines = [f"error: {message}", *context]  # (the message whole: a line to search for)
    terminal = _is_terminal(sys.stderr)
    for line in hint.split("\n") if hint else []:  # on a terminal, a line too wide folds
        lead = line[: len(line) - len(line.lstrip(" "))]
        wide = terminal and cells(line) > columns
        lines += fold(line.lstrip(" "), columns, lead, lead + "  ") if wide else [line]
    _tell("\n".join(lines))
    return code


def _tell(line: str) -> None:
    """A line on stderr; a reader of stderr that has gone away changes no exit status."""
    try:
        sys.stderr.write(f"{line}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        pass


def _tell_folded(text: str) -> None:
    """Text on stderr that may run long (a warning, a list of file names): on a terminal,
    folded at its width, later lines indented; into a pipe or a file, a line a message, as
    logs and grep want them."""
    if not _is_terminal(sys.stderr):
        _tell(text)
        return
    from bpcli.present.fold import fold

    _tell("\n".join(fold(text, screen_width(sys.stderr), "", "  ")) or text)


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def run() -> None:
    """The console-script entry point.

    Once its output is flushed, bpcli leaves without tearing the interpreter down: freeing
    every module and array one by one takes 10-20 ms, a fifth of the headline command, and
    by then nothing of bpcli's is left to clean up (files are closed, worker processes and
    threads joined, subprocesses waited for)."""
    if sys.stdout is None:  # started with stdout closed (>&-): writing to it is an error
        sys.stdout = _Closed()
    if sys.stderr is None:  # started with stderr closed (2>&-): there is nowhere to say more
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - until os._exit
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader has gone: a quiet exit, as everywhere else
        silence_stdout()
    except OSError as err:  # a full disk, say
        code = _fail(f"cannot write the output: {err.strerror or err}", EXIT_BAD_INPUT)
    with contextlib.suppress(OSError):
        sys.stderr.flush()
    os._exit(code)
