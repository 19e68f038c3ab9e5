"""`--format dot`: the graph as a Graphviz circuit in the style of cs231n's diagrams.

Inputs stand on the left as plain names, gates are small circles labelled with their
operation, and wires run left to right. Each wire carries its forward value in green
above its gradient in red: the gradient sent back along that one wire, so a variable
used twice shows two wires, each with its own share. A constant operand is folded into
its gate (`+1`, `*-1`, `1/x`), and the output runs into an end node so that its wire
shows the value and the seed gradient 1.

`render` hands the text to Graphviz's `dot` to write an SVG, PNG or PDF file.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bpcli.errors import BpcliError
from bpcli.explain import derivation
from bpcli.graph import Graph, Node
from bpcli.lazy import np
from bpcli.present.numbers import value as fmt

GREEN = "#1a7f37"  # forward values
RED = "#cf222e"  # gradients
KINK = "#bf8700"  # outline of a gate evaluated where it is not differentiable
MUTED = "#8c959f"
WIRE = "#57606a"  # gates with no path to the output
FONT = "Helvetica,Arial,sans-serif"

# A small array is written out on its wire when its text is at most this long; a
# larger one is shown by its shape.
SHORT_ARRAY = 28
# A constant folded into a gate label is written out when at most this long.
SHORT_CONST = 8

# Binary operators, drawn as in the lecture; `commutes` may put the constant after.
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "pow": "^", "matmul": "@"}
_COMMUTES = {"add", "mul"}
_SYMBOLS = {"neg": "*-1", "sigmoid": "σ", "transpose": "ᵀ", "id": "=", "stack": "[ ]",
            "amax": "max", "amin": "min", "norm": "‖·‖"}

INSTALL = ("Graphviz's `dot` program is needed to draw pictures. Install Graphviz"
           " (Debian/Ubuntu: apt install graphviz; macOS: brew install graphviz;"
           " others: https://graphviz.org/download/), or write the DOT text with --format dot")
# Output formats by file suffix; .dot and .gv are the text itself and need no Graphviz.
FORMATS = ("svg", "png", "pdf")
TEXT_FORMATS = ("dot", "gv")


def to_dot(graph: Graph, precision: int = 2, *, wires: str = "split") -> str:
    """The computed graph as DOT text: values in green above gradients in red on each wire.

    `wires="split"` draws each wire through a small label node whose rule is the wire
    itself, so the value sits above the line and the gradient below it, as in the
    lecture; `wires="labels"` makes each wire one DOT edge with an ordinary edge label."""
    if wires not in ("split", "labels"):
        raise ValueError(f"wires must be 'split' or 'labels', not {wires!r}")
    steps = derivation(graph)
    folded = {step.node.id: _folded_input(step.node) for step in steps}
    folded = {k: v for k, v in folded.items() if v is not None}
    # A constant is drawn only if some gate (or the output) takes it as a wire.
    wired = {graph.output.id}
    for node in graph.nodes:
        for i, inp in enumerate(node.inputs):
            if folded.get(node.id) != i:
                wired.add(inp.id)

    lines = [
        "digraph bpcli {",
        "  rankdir=LR;",
        "  ordering=in;",
        "  nodesep=0.25;",
        "  ranksep=0.3;" if wires == "split" else "  ranksep=0.45;",
        f'  graph [fontname="{FONT}", bgcolor="white", pad=0.15];',
        f'  node [fontname="{FONT}", fontsize=13];',
        f'  edge [fontname="{FONT}", fontsize=11, arrowsize=0.6, color="{WIRE}"];',
    ]
    leaves: list[str] = []
    for step in steps:
        node = step.node
        if node.inputs:
            attrs = _gate_attributes(graph, node, folded.get(node.id), step.kink, precision)
            lines.append(f"  {_id(node)} [{attrs}];")
        elif node.id in wired:
            text = node.name or _const_text(node, precision)
            lines.append(f"  {_id(node)} [shape=plaintext, label=<{_escape(text)}>"
                         f"{_tooltip(graph, node)}];")
            if node.op.name == "input":
                leaves.append(_id(node))
    end = _escape(graph.output.name or "f")
    lines.append(f'  out [shape=plaintext, label=<{end}>, tooltip="the output"];')
    if leaves:
        # The inputs in a column on the left, top to bottom in the order they first appear.
        chain = " -> ".join(leaves) + " [style=invis]; " if len(leaves) > 1 else ""
        lines.append("  { rank=source; " + " ".join(leaves) + "; " + chain + "}")

    wire = _split_wire if wires == "split" else _labelled_wire
    for step in steps:
        node = step.node
        for edge in step.edges:
            if folded.get(node.id) != edge.index:
                label = _wire_label(edge.input, edge.downstream, precision, named=True)
                lines += wire(_id(edge.input), _id(node), f"w{node.id}_{edge.index}", label)
    out = graph.output
    lines += wire(_id(out), "out", "w_out", _wire_label(out, out.grad, precision, named=False))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _labelled_wire(tail: str, head: str, wire: str, label: tuple[str, str]) -> list[str]:
    value, gradient = label
    text = value + (f"<br/>{gradient}" if gradient else "")
    return [f"  {tail} -> {head} [label=<{text}>];"]


def _split_wire(tail: str, head: str, wire: str, label: tuple[str, str]) -> list[str]:
    value, gradient = label
    table = ('<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
             f"<tr><td>{value}</td></tr>"
             f'<tr><td port="p" height="1" cellpadding="0" bgcolor="{WIRE}"></td></tr>'
             f"<tr><td>{gradient or ' '}</td></tr></table>")
    return [f"  {wire} [shape=plaintext, margin=0, width=0, height=0, fontsize=11, label=<{table}>];",
            f"  {tail} -> {wire}:p:w [arrowhead=none];",
            f"  {wire}:p:e -> {head};"]


def render(dot_text: str, path: str | Path) -> None:
    """Draw DOT text into a file with Graphviz; the format comes from the suffix."""
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
        shown = f"'.{suffix}'" if suffix else "no suffix"
        raise BpcliError(f"cannot tell what kind of picture to draw from {target.name!r} ({shown})",
                         hint=f"end the file name in one of {kinds}")
    program = shutil.which("dot")
    if program is None:
        raise BpcliError(INSTALL)
    try:
        done = subprocess.run([program, f"-T{suffix}", "-o", str(target)],
                              input=dot_text.encode("utf-8"), capture_output=True, check=False)
    except OSError as err:
        raise BpcliError(f"could not run Graphviz's dot ({program}): {err.strerror or err}",
                         hint=INSTALL) from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip()
        detail = "\n".join(message.splitlines()[:5]) or f"exit status {done.returncode}"
        raise BpcliError(f"Graphviz's dot could not draw {target}:\n{detail}")


# --- gates -------------------------------------------------------------------------------


def _folded_input(node: Node) -> int | None:
    """The index of the constant operand drawn inside this gate's label, if any."""
    if len(node.inputs) != 2 or node.op.name not in _INFIX and node.op.arity != 2:
        return None
    constant = [_is_literal(i) for i in node.inputs]
    if constant.count(True) != 1 or any(i.op.name == "const" for i, c in
                                         zip(node.inputs, constant, strict=True) if not c):
        return None
    return constant.index(True)


def _is_literal(node: Node) -> bool:
    return node.op.name == "const" and not node.name


def _gate_label(node: Node, fold: int | None, precision: int) -> str:
    name = node.op.name
    if fold is None:
        return _SYMBOLS.get(name) or _INFIX.get(name) or name
    c = _const_text(node.inputs[fold], precision)
    if name in _INFIX:
        symbol = _INFIX[name]
        if fold == 1 or name in _COMMUTES:
            if name in ("add", "sub") and c.startswith("-"):  # x + -3 is x - 3, x - -3 is x + 3
                return ("+" if name == "sub" else "-") + c[1:]
            return f"{symbol}{c}"
        return f"{c}{symbol}x"  # 1/x, 1-x, 2^x
    slots = [c if i == fold else "·" for i in range(2)]
    return f"{_SYMBOLS.get(name, name)}({', '.join(slots)})"


def _gate_attributes(graph: Graph, node: Node, fold: int | None, kink: bool, precision: int) -> str:
    text = _gate_label(node, fold, precision)
    label = _escape(text)
    if len(text) == 1:  # +, -, * and / are small glyphs: draw them larger
        label = f'<font point-size="18">{label}</font>'
    wide = len(text) > 3
    attrs = ["shape=ellipse" if wide else "shape=circle",
             "width=0.5", "height=0.4" if wide else "fixedsize=false", "margin=0.04"]
    style = ["solid"]
    color = "#24292f"
    if kink:
        label += '<font point-size="10">⚠</font>'
        style = ["dashed"]
        color = KINK
    elif node.grad is None:
        color = MUTED
    attrs += [f'style="{",".join(style)}"', f'color="{color}"', f'fontcolor="{color}"',
              f"label=<{label}>"]
    tooltip = graph.label(node)
    if kink:
        tooltip += " (not differentiable here: " + (node.op.convention or "a kink") + ")"
    attrs.append(f'tooltip="{_quote(tooltip)}"')
    return ", ".join(attrs)


def _tooltip(graph: Graph, node: Node) -> str:
    return f', tooltip="{_quote(graph.label(node))}"'


# --- wires -------------------------------------------------------------------------------


def _wire_label(source: Node, gradient: Any, precision: int, named: bool) -> tuple[str, str]:
    """A wire's value in green and the gradient sent back along it in red ('' for none)."""
    shown = _number(source.value, precision)
    if named and source.name and source.inputs:  # a named intermediate: `q = 3`
        shown = f"{source.name} = {shown}"
    value = f'<font color="{GREEN}">{_escape(shown)}</font>'
    if gradient is None:
        return value, ""
    return value, f'<font color="{RED}">{_escape(_number(gradient, precision))}</font>'



def _number(v: Any, precision: int) -> str:
    """A wire's number: a scalar, a small array on one line, or a larger array's shape."""
    if type(v) is float or np.ndim(v) == 0:
        return fmt(float(v), precision)
    shape = "×".join(map(str, v.shape))
    if v.ndim <= 2 and v.size <= 36:
        text = re.sub(r"\[\s+", "[", re.sub(r"\s+", " ", fmt(v, precision)))
        if len(text) <= SHORT_ARRAY:
            return text
    return shape if v.ndim > 1 else f"{shape}-vector"


def _const_text(node: Node, precision: int) -> str:
    v = node.value
    if type(v) is float:
        exact = repr(v)[:-2] if repr(v).endswith(".0") else repr(v)
        return exact if len(exact) <= SHORT_CONST else fmt(v, precision)
    text = _number(v, precision)
    return text if len(text) <= SHORT_CONST or node.op.name != "const" else "[…]"


# --- DOT text ----------------------------------------------------------------------------


def _id(node: Node) -> str:
    return f"n{node.id}"


def _escape(text: str) -> str:
    """Text for an HTML-like label."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("\n", "<br/>"))


def _quote(text: str) -> str:
    """Text for a double-quoted DOT string (backslashes would start escapes like \\N)."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")

