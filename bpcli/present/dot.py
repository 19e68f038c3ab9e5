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

import contextlib
import re
import shutil
import subprocess
import unicodedata
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

# An array is written out on its wire when it has at most SMALL elements, or SMALL rows of
# at most SMALL columns (a matrix a row to a line); a larger one by its shape and norm.
SMALL = 3
# A fan-out's trunk writes out its branches' gradients, `3 + 3 + 1 = 7`, up to this many
# numbers (or small arrays, with vectors on one line up to MAX_SUM_TEXT characters).
MAX_TERMS = 4
MAX_ARRAY_TERMS = 3
MAX_SUM_TEXT = 60
# A constant array's text at most this long is written in its gate (else its shape).
SHORT_ARRAY = 28
# Lines of DOT text are folded to this width (losslessly: see fold_dot); a label's text longer
# than FONT_PIECE characters is written in pieces so that its line can fold between them.
WIDTH = 80
FONT_PIECE = 40
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


def to_dot(
    run: Run,
    precision: int = 2,
    *,
    wires: str = "split",
    width: int | None = WIDTH,
    every_node: bool = False,
) -> str:
    """The computed graph as DOT text: on each wire its value in green, its gradient in red.

    `wires="split"` (the default) draws each wire through a small label node whose rule
    is the wire itself, so the value sits above the line and the gradient below it, as in
    the lecture; `wires="labels"` makes each wire a single DOT edge with an edge label.
    `every_node` draws every node of the graph, each on its own (no constant folded into its
    gate, leaves that nothing uses too): the HTML report hooks each node's picture."""
    if wires not in WIRES:
        raise ValueError(f"wires must be one of {WIRES}, not {wires!r}")
    graph, values = run.graph, run.values
    steps = derivation(run)
    folded = {} if every_node else {n.id: i for n in graph.nodes if (i := _folded_input(n)) is not None}
    # A leaf is drawn unless every gate that uses it folds it into its label.
    wired = {node.id for node in graph.nodes} if every_node else {graph.output.id}
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
                f'  {_id(node)} [shape=plaintext, label="{_quote(text)}",'
                f' tooltip="{_quote(scoped_label(graph, node))}"];',
            )
            if node.op is INPUT:
                inputs.append(_id(node))
    lines.append(f'  out [shape=plaintext, label="{_quote(_end_name(graph))}", tooltip="the output"];')
    if inputs:
        # The inputs in a column on the left, top to bottom in the order they first appear.
        chain = " -> ".join(inputs) + " [style=invis]; " if len(inputs) > 1 else ""
        lines.append("  { rank=source; " + " ".join(inputs) + "; " + chain + "}")

    draw = _split_wire if wires == "split" else _labelled_wire
    # Every wire, grouped by the node it leaves: a node that feeds several gates (or one gate
    # twice) fans out through a junction, whose trunk carries the sum of the branches.
    leaving: dict[int, list[_Wire]] = {}
    for step in steps:
        node = step.node
        for edge in step.edges:
            if folded.get(node.id) != edge.index:
                leaving.setdefault(edge.input.id, []).append(
                    _Wire(edge.input, _id(node), f"w{node.id}_{edge.index}", edge.downstream, node)
                )
    out = graph.output
    leaving.setdefault(out.id, []).append(_Wire(out, "out", "w_out", run.grads[out.id], None))
    for source_id in sorted(leaving):
        branches = leaving[source_id]
        source = graph.nodes[source_id]
        value = values[source_id]
        named = source is not out or len(branches) > 1
        if len(branches) == 1:
            (wire,) = branches
            label = (
                _value_html(source, value, precision, named),
                _gradient_html(wire.gradient, precision),
            )
            tip = _wire_tooltip(graph, source, value, wire.target(graph), wire.gradient, precision)
            drawn = draw(_id(source), wire.head, wire.id, label, tip, True)
            scope = _common(source.scope, wire.consumer.scope) if wire.consumer is not None else None
            lines += clusters.place(scope, drawn)
            continue
        junction = f"j{source_id}"
        sent = [w.gradient for w in branches if w.gradient is not None]
        total = run.grads[source_id] if sent else None
        tip = _fan_out_tooltip(graph, source, value, branches, total, precision)
        clusters.add(
            source.scope,
            f'  {junction} [shape=point, width=0.06, color="{WIRE}", tooltip="{tip}"];',
        )
        label = (_value_html(source, value, precision, True), _sum_html(sent, total, precision))
        lines += clusters.place(source.scope, draw(_id(source), junction, f"t{source_id}", label, tip, False))
        for wire in branches:
            tip = _wire_tooltip(graph, source, value, wire.target(graph), wire.gradient, precision)
            label = ("", _gradient_html(wire.gradient, precision))
            scope = _common(source.scope, wire.consumer.scope) if wire.consumer is not None else None
            lines += clusters.place(scope, draw(junction, wire.head, wire.id, label, tip, True))
    lines.append("}")
    text = "\n".join(clusters.close()) + "\n"
    return text if width is None else fold_dot(text, width)


class _Wire:
    """One wire from a node into a gate's input (or into the end node), with its gradient."""

    __slots__ = ("consumer", "gradient", "head", "id", "source")

    def __init__(self, source: Node, head: str, id: str, gradient: Value | None, consumer: Node | None):
        self.source = source
        self.head = head
        self.id = id
        self.gradient = gradient
        self.consumer = consumer  # None: the end node

    def target(self, graph: Graph) -> str:
        return "the output" if self.consumer is None else scoped_ref(graph, self.consumer)


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

    def place(self, scope: Scope | None, drawn: list[str]) -> list[str]:
        """A wire's lines: its label node (split wires) goes into `scope`'s cluster, and the
        edges, which are returned, stay outside it."""
        if len(drawn) == 3:
            self.add(scope, drawn[0])
            return drawn[1:]
        return drawn

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
                    f'{pad}  label="{_quote(scope.heading())}"; labeljust=l; fontsize=11; {style};'
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
        done = subprocess.run(
            command, input=dot_text.encode("utf-8"), capture_output=True, check=False, timeout=DRAW_SECONDS
        )
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            target.unlink()  # (a part written before the limit is no picture)
        raise BpcliError(
            f"Graphviz's dot took more than {DRAW_SECONDS:.0f} s to draw {target.name}: it can take"
            " minutes to place a node with many wires",
            hint="write the DOT text (--format dot > circuit.dot) and draw it with a bounded search:"
            " dot -Gnslimit=1 -Gnslimit1=1 -Tsvg circuit.dot > circuit.svg",
        ) from None
    except OSError as err:
        raise BpcliError(
            f"could not run Graphviz's dot ({program}): {err.strerror or err}",
            hint=INSTALL[0].upper() + INSTALL[1:],
        ) from None
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        detail = "\n".join(lines[:5]) or f"it stopped with exit status {done.returncode}"
        raise BpcliError(f"Graphviz's dot could not draw {target}:\n{detail}")


DRAW_SECONDS = 120.0  # -o x.svg: how long dot may take before bpcli gives up, saying why

# Network simplex iterations dot may spend placing the nodes (its nslimit and nslimit1): a
# bound that draws bpcli's small circuits as without it, and a node with many wires (an input
# used by a hundred gates) in seconds, where without it dot takes minutes.
NETWORK_SIMPLEX = 1


def svg_text(dot_text: str, timeout: float = 20.0, bounded: bool = False) -> str | None:
    """The picture Graphviz's dot draws of DOT text, as SVG text from its `<svg` on; None
    when dot is not installed, fails, or takes longer than `timeout` seconds. `bounded`
    bounds dot's search for a placement (NETWORK_SIMPLEX)."""
    program = shutil.which("dot")
    if program is None:
        return None
    command = [program, "-Tsvg"]
    if bounded:
        command += [f"-Gnslimit={NETWORK_SIMPLEX}", f"-Gnslimit1={NETWORK_SIMPLEX}"]
    try:
        done = subprocess.run(command, input=dot_text.encode("utf-8"), capture_output=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return None
    svg = done.stdout.decode("utf-8", "replace")
    start = svg.find("<svg")
    return svg[start:] if done.returncode == 0 and start >= 0 else None


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


def _value_html(source: Node, v: Value | None, precision: int, named: bool) -> str:
    """A wire's value in green: a number, a small array written out (a matrix a row to a
    line), or a larger array's shape and norm. A named intermediate is written `q = …`."""
    name = source.name if named and source.name and source.inputs else None
    if _is_small(v):
        prefix = f"{name} = " if name else ""
        return _array_html(v, precision, GREEN, prefix)
    assert v is not None and not isinstance(v, float)
    norm = f"‖{source.name or 'v'}‖ = {_norm(v, precision)}"
    return _font(GREEN, f"{name + ': ' if name else ''}{_shape(v)}, {norm}")


def _gradient_html(g: Value | None, precision: int) -> str:
    """A wire's gradient in red ('' for none): as the value, with ‖g‖ for a larger array."""
    if g is None:
        return ""
    if _is_small(g):
        return _array_html(g, precision, RED, "")
    assert not isinstance(g, float)
    return _font(RED, f"‖g‖ = {_norm(g, precision)}")


def _sum_html(sent: list[Value], total: Value | None, precision: int) -> str:
    """The trunk of a fan-out: the gradients of its branches and their sum, `3 + 3 + 1 = 7`,
    as cs231n says it: gradients add where a value fans out."""
    if total is None:
        return ""
    if len(sent) < 2:
        return _gradient_html(total, precision)
    if all(isinstance(g, float) for g in sent) and len(sent) <= MAX_TERMS:
        terms = " + ".join(_paren(fmt(g, precision)) for g in sent)
        return _font(RED, f"{terms} = {fmt(total, precision)}")
    if all(_is_small(g) for g in sent) and _is_small(total) and len(sent) <= MAX_ARRAY_TERMS:
        if all(np.ndim(g) <= 1 for g in sent):  # vectors: on one line
            text = " + ".join(_row_text(g, precision) for g in sent) + " = " + _row_text(total, precision)
            if len(text) <= MAX_SUM_TEXT:
                return _font(RED, text)
        if np.ndim(total) == 2 and all(np.shape(g) == np.shape(total) for g in sent):
            cells = []
            for i, g in enumerate(sent):
                if i:
                    cells.append(f"<td>{_font(RED, ' + ')}</td>")
                cells.append(f"<td>{_array_html(g, precision, RED, '')}</td>")
            cells.append(f"<td>{_font(RED, ' = ')}</td><td>{_array_html(total, precision, RED, '')}</td>")
            return f"{_TABLE} <tr> {' '.join(cells)} </tr> </table>"
    head = f"the sum of {len(sent)} branches"
    if isinstance(total, float):
        return _font(RED, f"{head} = {fmt(total, precision)}")
    if _is_small(total):
        return _array_html(total, precision, RED, head + " = ")
    return _font(RED, f"{head}: ‖g‖ = {_norm(total, precision)}")


_TABLE = '<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'


def _is_small(v: Value | None) -> bool:
    """Whether a value is written out on its wire: a number, a vector of at most SMALL
    elements, or a matrix of at most SMALL rows and SMALL columns."""
    if v is None or isinstance(v, float) or np.ndim(v) == 0:
        return True
    shape = np.shape(v)
    return len(shape) <= 2 and max(shape) <= SMALL and (len(shape) == 1 or min(shape) > 0)


def _array_html(v: Value | None, precision: int, color: str, prefix: str) -> str:
    """A number or a small array as HTML: a vector on one line, a matrix as a bracketed grid
    of right-aligned columns, a row to a line."""
    if v is None or isinstance(v, float) or np.ndim(v) < 2:
        return _font(color, prefix + (_row_text(v, precision) if v is not None else "—"))
    rows = [[_escape(fmt(float(x), precision)) for x in row] for row in v]
    left = f'<td rowspan="{len(rows)}" width="3" border="1" sides="LTB" color="{color}"></td>'
    right = f'<td rowspan="{len(rows)}" width="3" border="1" sides="RTB" color="{color}"></td>'
    html = []
    for i, row in enumerate(rows):
        cells = " ".join(
            f'<td align="right"><font color="{color}">{c}</font></td>'
            if j == 0
            else f'<td width="6"></td> <td align="right"><font color="{color}">{c}</font></td>'
            for j, c in enumerate(row)
        )
        edges = (left + " ", " " + right) if i == 0 else ("", "")
        html.append(f"<tr> {edges[0]}{cells}{edges[1]} </tr>")
    grid = f"{_TABLE} {' '.join(html)} </table>"
    if not prefix:
        return grid
    return f"{_TABLE} <tr> <td>{_font(color, prefix)}</td> <td>{grid}</td> </tr> </table>"


def _row_text(v: Value, precision: int) -> str:
    """A number, or a vector on one line: [0.2, 0.4]."""
    if isinstance(v, float) or np.ndim(v) == 0:
        return fmt(float(v), precision)
    return "[" + ", ".join(fmt(float(x), precision) for x in np.ravel(v)) + "]"


def _font(color: str, text: str) -> str:
    """Coloured text; a long one in pieces of about FONT_PIECE characters, so that the DOT
    line can fold between them (inside a tag, where Graphviz ignores the line break)."""
    pieces = [""]
    for word in re.split(r"(?<= )", text):
        if pieces[-1] and len(pieces[-1]) + len(word) > FONT_PIECE:
            pieces.append("")
        pieces[-1] += word
    return "".join(f'<font color="{color}">{_escape(piece)}</font>' for piece in pieces)


def _paren(text: str) -> str:
    return f"({text})" if text.startswith("-") else text


def _shape(v: Value) -> str:
    shape = np.shape(v)
    return f"{shape[0]}-vector" if len(shape) == 1 else "×".join(map(str, shape))


def _norm(v: Value, precision: int) -> str:
    with np.errstate(all="ignore"):
        return fmt(float(np.linalg.norm(np.ravel(v))), precision)


def _wire_tooltip(
    graph: Graph, source: Node, value: Value | None, target: str, gradient: Value | None, precision: int
) -> str:
    """The whole of a wire's numbers, for SVG viewers: arrays in full or summarised."""
    text = f"{scoped_ref(graph, source)} → {target}: value {_one_line(fmt(value, precision))}"
    if gradient is not None:
        text += f"; gradient {_one_line(fmt(gradient, precision))}"
    return _quote(text)


def _fan_out_tooltip(
    graph: Graph,
    source: Node,
    value: Value | None,
    branches: list[_Wire],
    total: Value | None,
    precision: int,
) -> str:
    text = f"{scoped_ref(graph, source)} fans out to {len(branches)} wires"
    text += f": value {_one_line(fmt(value, precision))}"
    if total is not None:
        text += f"; the gradients of the branches add up to {_one_line(fmt(total, precision))}"
    return _quote(text)


def _labelled_wire(
    tail: str, head: str, wire: str, label: tuple[str, str], tip: str, arrow: bool
) -> list[str]:
    value, gradient = label
    text = value + ("<br/>" if value and gradient else "") + gradient
    if value.startswith("<table") or gradient.startswith("<table"):
        text = f"{_TABLE} <tr> <td>{value or ' '}</td> </tr> <tr> <td>{gradient or ' '}</td> </tr> </table>"
    head_style = "" if arrow else "arrowhead=none, "
    return [f'  {tail} -> {head} [{head_style}label=<{text}>, tooltip="{tip}", labeltooltip="{tip}"];']


def _split_wire(tail: str, head: str, wire: str, label: tuple[str, str], tip: str, arrow: bool) -> list[str]:
    value, gradient = label
    table = (
        '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        f" <tr> <td>{value or ' '}</td> </tr>"
        f' <tr> <td port="p" height="1" cellpadding="0" bgcolor="{WIRE}"></td> </tr>'
        f" <tr> <td>{gradient or ' '}</td> </tr> </table>"
    )
    head_style = "" if arrow else "arrowhead=none, "
    return [
        f"  {wire} [shape=plaintext, margin=0, width=0, height=0, fontsize=11,"
        f' tooltip="{tip}", label=<{table}>];',
        f'  {tail} -> {wire}:p:w [arrowhead=none, tooltip="{tip}"];',
        f'  {wire}:p:e -> {head} [{head_style}weight=3, tooltip="{tip}"];',  # (the label near the gate)
    ]


# --- numbers -----------------------------------------------------------------------------


def _number(v: Value | None, precision: int) -> str:
    """A constant's number: a scalar, a small array on one line, or a larger array's shape."""
    if v is None:
        return "—"
    if isinstance(v, float) or np.ndim(v) == 0:  # (a float subclass has no dimensions either)
        return fmt(float(v), precision)
    if v.ndim <= 2 and v.size <= 36:
        text = _one_line(fmt(v, precision))
        if len(text) <= SHORT_ARRAY:
            return text
    return _shape(v)


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


# --- folding to a width --------------------------------------------------------------------

# A folded statement's further lines are indented this much more than its first line; DOT
# statements nest by 2, so unfold_dot tells a continuation from the next statement.
CONTINUATION = 6


def fold_dot(text: str, width: int = WIDTH) -> str:
    """DOT text with each line longer than `width` folded onto further lines, meaning the
    same to Graphviz: at a space between attributes or statements, or between an HTML-like
    label's tags or inside a tag (a newline and an indent more), or else inside a
    double-quoted string (a backslash-newline, which DOT removes). unfold_dot undoes it."""
    out: list[str] = []
    for line in text.split("\n"):
        out += _fold_line(line, width)
    return "\n".join(out)


def unfold_dot(text: str) -> str:
    """The text fold_dot folded, as it was."""
    lines: list[str] = []
    base = 0
    for line in text.replace("\\\n", "").split("\n"):
        indent = len(line) - len(line.lstrip(" "))
        if lines and line.strip() and indent >= base + CONTINUATION:
            lines[-1] += " " + line.lstrip(" ")
        else:
            lines.append(line)
            base = indent
    return "\n".join(lines)


def _fold_line(line: str, width: int) -> list[str]:
    if _cells(line) <= width:
        return [line]
    spaces, inside = _break_points(line)
    at_cell = [0]  # at_cell[i]: the cells of line[:i]
    for char in line:
        at_cell.append(at_cell[-1] + _cells(char))
    indent = " " * (len(line) - len(line.lstrip(" ")) + CONTINUATION)
    out: list[str] = []
    start, prefix = 0, ""
    while len(prefix) + at_cell[-1] - at_cell[start] > width:
        room = width - len(prefix)
        fits = [p for p in spaces if start < p and at_cell[p] - at_cell[start] <= room]
        cut = [p for p in inside if start < p and at_cell[p] - at_cell[start] < room]
        if fits and (not cut or at_cell[fits[-1]] - at_cell[start] >= room // 3):
            at = fits[-1]
            out.append(prefix + line[start:at])
            start, prefix = at + 1, indent
        elif cut:
            at = cut[-1]
            out.append(prefix + line[start:at] + "\\")
            start, prefix = at, ""
        else:  # nothing fits: fold at the first place after the start, if there is one
            later = [p for p in spaces if p > start]
            if not later:
                break
            out.append(prefix + line[start : later[0]])
            start, prefix = later[0] + 1, indent
    out.append(prefix + line[start:])
    return out


def _break_points(line: str) -> tuple[list[int], list[int]]:
    """Where a line of DOT may fold: the spaces that a newline can replace (outside strings,
    and inside the tags of HTML-like labels but not in their text or quoted values), and
    the places inside double-quoted strings where a backslash-newline may go."""
    spaces: list[int] = []
    inside: list[int] = []
    html = 0  # depth of < > in an HTML-like label: 1 in its text, 2 in a tag
    quoted = False  # in a double-quoted DOT string, or in an attribute value inside a tag
    i = 0
    while i < len(line):
        char = line[i]
        if quoted:
            if html == 0 and i > 0 and line[i - 1] != "\\":
                inside.append(i)
            if char == "\\" and html == 0:
                i += 2  # an escape stays whole
                continue
            if char == '"':
                quoted = False
        elif char == '"':
            quoted = True
        elif char == "<":
            html += 1
        elif char == ">" and html > 0:  # (not the arrow of an edge, ->)
            html -= 1
        elif char == " " and (html != 1 or (line[i + 1 : i + 2] == "<" and _between_rows_or_cells(line, i))):
            spaces.append(i)  # (in a label's text only between the tags of its table)
        i += 1
    return spaces, inside


def _between_rows_or_cells(line: str, i: int) -> bool:
    """Whether the space at i follows a tag after which an HTML-like label's table has only
    more tags (`</td>`, `<tr>`, `</tr>`, `<table …>`): there Graphviz ignores white space."""
    tag = line[line.rfind("<", 0, i) : i]
    return tag in ("</td>", "<tr>", "</tr>") or (tag.startswith("<table") and tag.endswith(">"))


def _cells(text: str) -> int:
    """Terminal cells: wide (CJK) characters count 2."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
