"""`--format dot`: the graph as a Graphviz circuit in the style of cs231n's diagrams.

Inputs stand in a column on the left as plain names, gates are small circles labelled
with their operation, and wires run left to right. Each wire carries its forward value
in green above the line and, below it in red, the gradient sent back along that one
wire, so a variable used twice shows two wires, each with its own share. A constant
operand is folded into its gate (`+1`, `*-1`, `1/x`), as the lecture draws them, and
the output runs into an end node so that its wire shows the value and the seed 1.

`render` hands the text to Graphviz's `dot` to write an SVG, PNG or PDF file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from bpcli.core.graph import Graph, Node, Scope
from bpcli.core.ops import CONST, INPUT
from bpcli.core.run import Run
from bpcli.core.where import scoped_label, scoped_ref
from bpcli.errors import BpcliError
from bpcli.lazy import np
from bpcli.present.explain import derivation
from bpcli.present.numbers import value as fmt
from bpcli.texts import Translator
from bpcli.values import Value

GREEN = "#1a7f37"  # forward values
RED = "#cf222e"  # gradients
INK = "#24292f"  # gates
WIRE = "#57606a"
KINK = "#bf8700"  # the dashed outline of a gate evaluated where it is not differentiable
MUTED = "#8c959f"  # gates with no path to the output
FONT = "Helvetica,Arial,sans-serif"

# A small array is written out on its wire when its text is at most this long; a larger
# one is shown by its shape (`2×2`, `5-vector`).
SHORT_ARRAY = 28
# A constant folded into a gate is written out when at most this long, else as `[…]`.
SHORT_CONST = 10
# Bitmaps are drawn at this resolution: sharp on screen, a few tens of KB.
PNG_DPI = 110

INSTALL = (
    "install Graphviz (Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz;"
    " others: https://graphviz.org/download/), or print the DOT text with --format dot"
)
# Picture formats by file suffix; .dot and .gv files get the DOT text and need no Graphviz.
FORMATS = ("svg", "png", "pdf")
TEXT_FORMATS = ("dot", "gv")

WIRES = ("split", "labels")


def to_dot(run: Run, precision: int = 2, *, wires: str = "split") -> str:
    """The computed graph as DOT text: on each wire its value in green, its gradient in red.

    `wires="split"` (the default) draws each wire through a small label node whose rule
    is the wire itself, so the value sits above the line and the gradient below it, as in
    the lecture; `wires="labels"` makes each wire a single DOT edge with an edge label."""
    if wires not in WIRES:
        raise ValueError(f"wires must be one of {WIRES}, not {wires!r}")
    graph, values = run.graph, run.values
    steps = derivation(run)
    folded = {node.id: i for node in graph.nodes if (i := _folded_input(node)) is not None}
    # A leaf is drawn unless every gate that uses it folds it into its label.
    wired = {graph.output.id}
    for node in graph.nodes:
        wired.update(inp.id for i, inp in enumerate(node.inputs) if folded.get(node.id) != i)

    lines = [
        "digraph bpcli {",
        "  rankdir=LR;",
        "  nodesep=0.25;",
        "  ranksep=0.3;" if wires == "split" else "  ranksep=0.45;",
        f'  graph [fontname="{FONT}", bgcolor="white", pad=0.15];',
        f'  node [fontname="{FONT}", fontsize=13];',
        f'  edge [fontname="{FONT}", fontsize=11, arrowsize=0.6, color="{WIRE}"];',
    ]
    clusters = _Clusters(lines)
    inputs: list[str] = []
    for step in steps:
        node = step.node
        if node.inputs:
            attrs = _gate_attributes(run, node, folded.get(node.id), step.kink, precision)
            clusters.add(node.scope, f"  {_id(node)} [{attrs}];")
        elif node.id in wired:
            text = node.name or _const_text(step.value, precision, short=False)
            clusters.add(
                node.scope,
                f"  {_id(node)} [shape=plaintext, label=<{_escape(text)}>,"
                f' tooltip="{_quote(scoped_label(graph, node))}"];',
            )
            if node.op is INPUT:
                inputs.append(_id(node))
    lines.append(f'  out [shape=plaintext, label=<{_escape(_end_name(graph))}>, tooltip="the output"];')
    if inputs:
        # The inputs in a column on the left, top to bottom in the order they first appear.
        chain = " -> ".join(inputs) + " [style=invis]; " if len(inputs) > 1 else ""
        lines.append("  { rank=source; " + " ".join(inputs) + "; " + chain + "}")

    draw = _split_wire if wires == "split" else _labelled_wire
    for step in steps:
        node = step.node
        for edge in step.edges:
            if folded.get(node.id) == edge.index:
                continue
            value = values[edge.input.id]
            label = _wire_label(edge.input, value, edge.downstream, precision, named=True)
            tip = _wire_tooltip(graph, edge.input, value, scoped_ref(graph, node), edge.downstream, precision)
            drawn = draw(_id(edge.input), _id(node), f"w{node.id}_{edge.index}", label, tip)
            if len(drawn) == 3 and node.scope is not None:  # the wire's label node, in the
                clusters.add(_common(edge.input.scope, node.scope), drawn[0])  # scope of both ends
                drawn = drawn[1:]
            lines += drawn
    out = graph.output
    label = _wire_label(out, run.output, run.grads[out.id], precision, named=False)
    tip = _wire_tooltip(graph, out, run.output, "the output", run.grads[out.id], precision)
    lines += draw(_id(out), "out", "w_out", label, tip)
    lines.append("}")
    return "\n".join(clusters.close()) + "\n"


# --- clusters ----------------------------------------------------------------------------


class _Clusters:
    """The DOT lines, with the nodes made in a call or a loop's iteration inside a cluster
    labelled with its heading (`step, t = 2`), clusters nested as the scopes are. A cluster
    stands where its scope's first node would; nothing changes for a graph with no scopes."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.places: list[tuple[int, Scope]] = []  # (index in lines, outermost scope) to insert
        self.own: dict[int, list[str]] = {}  # id(scope) -> its own lines
        self.children: dict[int, list[Scope]] = {}  # id(scope) -> its scopes, in order

    def add(self, scope: Scope | None, line: str) -> None:
        if scope is None:
            self.lines.append(line)
            return
        if id(scope) not in self.own:
            self._enter(scope)
        self.own[id(scope)].append(line)

    def _enter(self, scope: Scope) -> None:
        for s in scope.chain():  # (outermost first)
            if id(s) in self.own:
                continue
            self.own[id(s)] = []
            self.children[id(s)] = []
            if s.parent is None:
                self.places.append((len(self.lines), s))
            else:
                self.children[id(s.parent)].append(s)

    def close(self) -> list[str]:
        """The lines with each cluster written in."""
        out: list[str] = []
        at = 0
        count = 0
        for index, root in self.places:
            out += self.lines[at:index]
            at = index
            stack: list[tuple[Scope, bool]] = [(root, False)]
            depth = 0
            while stack:
                scope, done = stack.pop()
                if done:
                    depth -= 1
                    out.append("  " * (depth + 1) + "}")
                    continue
                children = self.children[id(scope)]
                if not self.own[id(scope)] and len(children) == 1:
                    stack.append((children[0], False))  # a frame round one frame only: left out
                    continue
                pad = "  " * (depth + 1)
                call = scope.function is not None
                style = 'style="rounded"; color="#8c959f"' if call else 'style="dashed"; color="#d0d7de"'
                out.append(f"{pad}subgraph cluster_{count} {{")
                out.append(
                    f"{pad}  label=<{_escape(scope.heading())}>; labeljust=l; fontsize=11; {style};"
                    f' fontcolor="{MUTED}";'
                )
                count += 1
                depth += 1
                out += [pad + line for line in self.own[id(scope)]]
                stack.append((scope, True))
                stack += [(child, False) for child in reversed(children)]
        out += self.lines[at:]
        return out


def _common(a: Scope | None, b: Scope | None) -> Scope | None:
    """The innermost scope that holds both (None: the top level)."""
    if a is None or b is None:
        return None
    common = None
    for x, y in zip(a.chain(), b.chain(), strict=False):
        if x is not y:
            break
        common = x
    return common


def render(dot_text: str, path: str | Path) -> None:
    """Draw DOT text into a file with Graphviz's dot; the format comes from the suffix
    (.svg, .png, .pdf; .dot and .gv get the text itself). Every failure is a BpcliError."""
    target = Path(path)
    suffix = target.suffix.lower().lstrip(".")
    if suffix in TEXT_FORMATS:
        try:
            target.write_text(dot_text, encoding="utf-8")
        except OSError as err:
            raise BpcliError(f"cannot write {target}: {err.strerror or err}") from None
        return
    if suffix not in FORMATS:
        kinds = ", ".join("." + f for f in FORMATS + TEXT_FORMATS)
        found = f"'.{suffix}'" if suffix else "no suffix"
        raise BpcliError(
            f"cannot tell what kind of picture to draw from the file name {target.name!r} ({found})",
            hint=f"end the file name in one of {kinds}",
        )
    program = shutil.which("dot")
    if program is None:
        raise BpcliError(f"cannot draw {target.name}: Graphviz's dot program is not installed; {INSTALL}")
    command = [program, f"-T{suffix}", "-o", str(target)]
    if suffix == "png":
        command.insert(1, f"-Gdpi={PNG_DPI}")
    try:
        done = subprocess.run(command, input=dot_text.encode("utf-8"), capture_output=True, check=False)
    except OSError as err:
        raise BpcliError(
            f"could not run Graphviz's dot ({program}): {err.strerror or err}",
            hint=INSTALL[0].upper() + INSTALL[1:],
        ) from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = "\n".join(lines[:5]) or f"it stopped with exit status {done.returncode}"
        raise BpcliError(f"Graphviz's dot could not draw {target}:\n{detail}")


# --- gates -------------------------------------------------------------------------------


def _folded_input(node: Node) -> int | None:
    """The index of the constant operand written inside this binary gate's label, if any:
    an unnamed constant whose partner is not one too (`2*3` keeps both as leaves)."""
    if node.op.symbol.endswith("=") and len(node.inputs) >= 2:  # x[idx] = 0: the 0 goes in [idx]=0
        value = node.inputs[1]
        return 1 if value.op is CONST and not value.name and node.inputs[0].op is not CONST else None
    if len(node.inputs) != 2:
        return None
    literal = [i.op is CONST and not i.name for i in node.inputs]
    return literal.index(True) if literal.count(True) == 1 else None


def _gate_label(node: Node, fold: int | None, constant: Value | None, precision: int) -> str:
    """The gate's symbol, with the `constant` value of its input `fold` written in."""
    op = node.op
    symbol = op.symbol  # the operator as the lecture writes it
    if fold is None:
        return symbol
    c = _const_text(constant, precision, short=True)
    if op.infix:
        if fold == 1 or op.commutes:  # x + 1, and 1 + x drawn as +1 too
            if symbol in ("+", "-") and c.startswith("-"):  # x + -3 is x - 3; x - -3 is x + 3
                return ("+" if symbol == "-" else "-") + c[1:]
            return symbol + c  # +1, *-1, /2, ^2
        return f"{c}{symbol}x"  # 1/x, 1-x, 2^x
    if symbol.endswith("=") and fold == 1:  # an index assignment of a constant: [idx]=0
        return symbol + c
    slots = [c if i == fold else "·" for i in range(2)]
    return f"{symbol}({', '.join(slots)})"  # max(0, ·)


def _gate_attributes(run: Run, node: Node, fold: int | None, kink: bool, precision: int) -> str:
    constant = None if fold is None else run.values[node.inputs[fold].id]
    text = _gate_label(node, fold, constant, precision)
    label = _escape(text)
    if len(text) == 1:  # +, -, * and / are small glyphs: draw them larger
        label = f'<font point-size="18">{label}</font>'
    color, style = INK, "solid"
    tooltip = scoped_label(run.graph, node)
    if kink:
        label += ' <font point-size="10">⚠</font>'
        color, style = KINK, "dashed"
        tooltip += " (not differentiable here: " + Translator()(node.op.convention) + ")"
    elif run.grads[node.id] is None:
        color = MUTED  # no path to the output
    shape = "shape=ellipse, height=0.4" if len(text) > 3 or kink else "shape=circle"
    return (
        f'{shape}, width=0.5, margin=0.04, style="{style}", color="{color}",'
        f' fontcolor="{color}", label=<{label}>, tooltip="{_quote(tooltip)}"'
    )


def _end_name(graph: Graph) -> str:
    """The end node's name: the output's name, else `f` unless that names something else."""
    if graph.output.name:
        return graph.output.name
    return "output" if "f" in graph.names or "f" in graph.inputs else "f"


# --- wires -------------------------------------------------------------------------------


def _wire_label(
    source: Node, number: Value | None, gradient: Value | None, precision: int, named: bool
) -> tuple[str, str]:
    """A wire's value (`number`) in green and the gradient sent back along it in red ('' for
    none), as HTML-like label text."""
    shown = _number(number, precision)
    if named and source.name and source.inputs:  # a named intermediate: `q = 3`
        shown = f"{source.name} = {shown}"
    value = f'<font color="{GREEN}">{_escape(shown)}</font>'
    if gradient is None:
        return value, ""
    return value, f'<font color="{RED}">{_escape(_number(gradient, precision))}</font>'


def _wire_tooltip(
    graph: Graph, source: Node, value: Value | None, target: str, gradient: Value | None, precision: int
) -> str:
    """The whole of a wire's numbers, for SVG viewers: arrays in full or summarised."""
    text = f"{scoped_ref(graph, source)} → {target}: value {_one_line(fmt(value, precision))}"
    if gradient is not None:
        text += f"; gradient {_one_line(fmt(gradient, precision))}"
    return _quote(text)


def _labelled_wire(tail: str, head: str, wire: str, label: tuple[str, str], tip: str) -> list[str]:
    value, gradient = label
    text = value + (f"<br/>{gradient}" if gradient else "")
    return [f'  {tail} -> {head} [label=<{text}>, tooltip="{tip}", labeltooltip="{tip}"];']


def _split_wire(tail: str, head: str, wire: str, label: tuple[str, str], tip: str) -> list[str]:
    value, gradient = label
    table = (
        '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        f"<tr><td>{value}</td></tr>"
        f'<tr><td port="p" height="1" cellpadding="0" bgcolor="{WIRE}"></td></tr>'
        f"<tr><td>{gradient or ' '}</td></tr></table>"
    )
    return [
        f"  {wire} [shape=plaintext, margin=0, width=0, height=0, fontsize=11,"
        f' tooltip="{tip}", label=<{table}>];',
        f'  {tail} -> {wire}:p:w [arrowhead=none, tooltip="{tip}"];',
        f'  {wire}:p:e -> {head} [tooltip="{tip}"];',
    ]


# --- numbers -----------------------------------------------------------------------------


def _number(v: Value | None, precision: int) -> str:
    """A wire's number: a scalar, a small array on one line, or a larger array's shape."""
    if v is None:
        return "—"
    if isinstance(v, float) or np.ndim(v) == 0:  # (a float subclass has no dimensions either)
        return fmt(float(v), precision)
    if v.ndim <= 2 and v.size <= 36:
        text = _one_line(fmt(v, precision))
        if len(text) <= SHORT_ARRAY:
            return text
    shape = "×".join(map(str, v.shape))
    return shape if v.ndim > 1 else f"{shape}-vector"


def _const_text(v: Value | None, precision: int, short: bool) -> str:
    """A constant as the program wrote it (`1`, `0.5`), rounded if that is long."""
    if type(v) is float:
        exact = repr(v).removesuffix(".0")
        return exact if len(exact) <= SHORT_CONST else fmt(v, precision)
    text = _number(v, precision)
    return "[…]" if short and len(text) > SHORT_CONST else text


def _one_line(text: str) -> str:
    return re.sub(r"\[ +", "[", re.sub(r"\s+", " ", text))


# --- DOT text ----------------------------------------------------------------------------


def _id(node: Node) -> str:
    return f"n{node.id}"


def _escape(text: str) -> str:
    """Text for an HTML-like label: markup characters as entities, lines as <br/>."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "<br/>")
    )


def _quote(text: str) -> str:
    """Text for a double-quoted DOT string (where a backslash would start `\\N` and the like)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
