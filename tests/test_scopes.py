"""Calls and loop iterations in the outputs: headings over their rows (table, steps,
markdown), names qualified by where they were made outside those headings (steps, check,
JSON), --depth's collapsed calls, and DOT clusters.

The graphs are straight-line programs whose nodes are given scopes by hand, as the
interpreter gives them to the nodes of a call or an iteration."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess

import pytest
from rich.console import Console

from bpcli.core.engine import gradient
from bpcli.core.engine import run as run_graph
from bpcli.core.graph import Scope
from bpcli.grading.answers import expectations, split_answer
from bpcli.grading.diagnose import check
from bpcli.language.parse import parse
from bpcli.present.check import check_document, check_report
from bpcli.present.dot import to_dot
from bpcli.present.jsonout import grad_document
from bpcli.present.markdown import markdown_text
from bpcli.present.scopes import Group, collapse, explain
from bpcli.present.steps import steps_text
from bpcli.present.table import grad_report
from bpcli.texts import Translator

# h = 0.0; for t in range(2): h = step(x, h, W), step's body written out; then f = h*2
LOOP = (
    "h = 0.0\nx = 1.0\nW = 0.5\n"
    "q = x * W\nnext_h = tanh(q + h)\n"  # step, t = 0
    "q2 = x * W\nh2 = tanh(q2 + next_h)\n"  # step, t = 1
    "f = h2 * 2"
)


def loop_graph(calls: bool = True):
    """LOOP with its scopes: each iteration's nodes in a call of step (or, without `calls`,
    in the iteration itself: a loop with no function)."""
    graph = parse(LOOP)
    t0, t1 = Scope(None, None, (("t", "0"),)), Scope(None, None, (("t", "1"),))
    scopes = (Scope(t0, "step"), Scope(t1, "step")) if calls else (t0, t1)
    for node in graph.nodes:
        if 3 <= node.id <= 5:
            node.scope = scopes[0]
        elif 6 <= node.id <= 8:
            node.scope = scopes[1]
    return graph


# layer(x, W) calls affine(x, W) (a call in a call), then relu; at the top level, the loss
NESTED = "x = 2.0\nW = -1.5\nb = 0.5\na = x * W\nz = a + b\nr = relu(z) + exp(a)\nf = r * r"


def nested_graph():
    graph = parse(NESTED)
    layer = Scope(None, "layer")
    affine = Scope(layer, "affine")
    for node in graph.nodes:
        label = graph.label(node)
        if label.startswith(("a = ", "z = ")):
            node.scope = affine
        elif node.op.name in ("relu", "exp", "add") and not label.startswith("z"):
            node.scope = layer
    assert {n.scope for n in graph.nodes} == {None, layer, affine}
    return graph


def table_text(graph, width=80, **options):
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, highlight=False, emoji=False, markup=False, no_color=True)
    for part in grad_report(run_graph(graph), 4, width=width, **options):
        console.print(part)
    return buffer.getvalue()


def headings_in(text: str, names: list[str]) -> list[str]:
    """The heading lines in the order they stand: table rows or steps lines naming a scope."""
    found = []
    for line in text.splitlines():
        for name in names:
            if line.strip() in (f"▸ {name}", f"── {name} ──"):
                found.append(name)
    return found


# --- headings ----------------------------------------------------------------------------


def test_the_table_has_one_heading_per_run_of_rows():
    text = table_text(loop_graph())
    assert headings_in(text, ["step, t = 0", "step, t = 1", "top level"]) == [
        "step, t = 0",
        "step, t = 1",
        "top level",
    ]
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert "\x1b[" not in text


def test_headings_for_loops_alone_name_the_loop_variable():
    text = table_text(loop_graph(calls=False), width=200)
    assert headings_in(text, ["t = 0", "t = 1", "top level"]) == ["t = 0", "t = 1", "top level"]


def test_a_graph_without_scopes_gets_no_heading():
    graph = parse(LOOP)
    assert "top level" not in table_text(graph, width=200)
    assert "──" not in steps_text(run_graph(graph)).replace("──", "", 0)
    assert "**" not in markdown_text(run_graph(graph)).split("```")[0]


def test_steps_have_one_heading_per_run_and_qualify_names_from_other_scopes():
    text = steps_text(run_graph(loop_graph()))
    # from the output back: the top level (no heading: it starts there), then t = 1, t = 0,
    # then the top level again for the inputs' gradients
    assert headings_in(text, ["step, t = 0", "step, t = 1", "top level"]) == [
        "step, t = 1",
        "step, t = 0",
        "top level",
    ]
    assert "to h2 (step, t = 1):" in text  # f = h2*2 reaches into the call of t = 1
    assert "to next_h (step, t = 0):" in text  # t = 1 uses t = 0's result
    assert "#5 next_h = tanh(q + h)" in text  # under its own heading: just its label
    zh = steps_text(run_graph(loop_graph()), tr=Translator("zh"))
    assert headings_in(zh, ["step, t = 0", "step, t = 1", "顶层"]) == ["step, t = 1", "step, t = 0", "顶层"]
    assert "传给 next_h (step, t = 0)：" in zh


def test_markdown_rows_stand_under_headings():
    text = markdown_text(run_graph(loop_graph())).split("```")[0]
    headings = [line for line in text.splitlines() if "**" in line]
    assert len(headings) == 3 and "**step, t = 0**" in headings[0] and "**top level**" in headings[2]
    assert all(line.count("|") == 8 for line in text.splitlines() if line.startswith("|"))


def test_a_gap_in_a_big_table_repeats_the_heading_after_it():
    text = table_text(loop_graph(), width=200, max_rows=4)
    # rows 0, 1 | … | rows 9, 10: the rows after the gap are at the top level
    assert "more nodes" in text
    assert headings_in(text, ["step, t = 0", "step, t = 1", "top level"]) == ["top level"]


# --- names outside headings ----------------------------------------------------------------


def test_json_nodes_carry_their_scope():
    graph = loop_graph()
    nodes = grad_document(run_graph(graph))["nodes"]
    assert [n["scope"] for n in nodes] == [None] * 3 + ["step@t=0"] * 3 + ["step@t=1"] * 3 + [None] * 2
    assert json.loads(json.dumps(nodes))[5]["label"] == "next_h = tanh(q + h)"


def test_a_diagnosis_names_the_scope_of_the_gate():
    graph = loop_graph()
    result = run_graph(graph)
    pairs = [(*split_answer("dq2=0.3"), None)]  # the truth is 0.8893: a wrong upstream
    verdicts = check(result, expectations(pairs, set(graph.names)), None)
    document = check_document(verdicts, graph, (), 4, Translator())
    message = document["results"][0]["diagnosis"]["message"]
    assert "step@t=1: " in message, message
    assert check_report(verdicts, graph, 4, Translator())  # renders


# --- --depth -------------------------------------------------------------------------------


def test_depth_0_makes_each_call_one_gate_with_its_results_numbers():
    graph = loop_graph()
    result = run_graph(graph, record=True)
    items = collapse(graph, 0)
    groups = [item for item in items if isinstance(item, Group)]
    assert [g.name for g in groups] == ["step(…)", "step(…)"]
    assert [[n.id for n in g.nodes] for g in groups] == [[3, 4, 5], [6, 7, 8]]
    assert [[n.id for n in g.results] for g in groups] == [[5], [8]]
    assert [[n.name for n in g.inputs] for g in groups] == [["x", "W", "h"], ["x", "W", "next_h"]]
    explained = [s for s in explain(result, items) if not hasattr(s, "node")]
    for step in explained:
        (res,) = step.results
        assert res.value == result.values[res.node.id]
        assert res.upstream == gradient(result, res.node)
    # what each call sends back: its inputs' gradients add up to ∂f/∂input
    sent_x = [dict((inp.name, d) for inp, d in step.edges)["x"] for step in explained]
    assert sum(sent_x) == pytest.approx(gradient(result, graph.inputs["x"]))
    sent_h = dict((inp.name, d) for inp, d in explained[0].edges)["h"]
    assert sent_h == pytest.approx(gradient(result, graph.inputs["h"]))


def test_depth_0_in_the_table_and_steps():
    graph = loop_graph()
    text = table_text(graph, depth=0)
    assert re.search(r"^3–5  step\(…\) +call ", text, re.M)
    assert re.search(r"^6–8  step\(…\) +call ", text, re.M)
    assert "tanh" not in text  # the gates inside are not shown
    assert headings_in(text, ["step, t = 0", "step, t = 1", "top level"]) == [
        "step, t = 0",
        "step, t = 1",
        "top level",
    ]
    assert all(len(line) <= 80 for line in text.splitlines())
    steps = steps_text(run_graph(graph), depth=0)
    assert "#6–8 step(…)   [call]" in steps
    assert "to next_h (step, t = 0):  downstream = 0.8893  (through the call)" in steps
    assert "to h:  downstream = 0.6994  (through the call)" in steps
    assert steps.endswith("∂f/∂W = 0.6994 + 0.8893 = 1.5887  (W is used 2 times)\n")


def test_depth_collapses_calls_deeper_than_it_only():
    graph = nested_graph()
    assert [type(i).__name__ for i in collapse(graph, None)] == ["Node"] * len(graph.nodes)
    assert collapse(graph, 2) == graph.nodes  # no call is 3 deep
    one = [i for i in collapse(graph, 1) if isinstance(i, Group)]
    assert [g.name for g in one] == ["affine(…)"]
    assert [n.name for n in one[0].results] == ["a", "z"]  # both used outside the call
    zero = [i for i in collapse(graph, 0) if isinstance(i, Group)]
    assert [g.name for g in zero] == ["layer(…)"]  # the call in it goes with it
    assert len(zero[0].nodes) == len([n for n in graph.nodes if n.scope is not None])
    result = run_graph(graph)
    text = table_text(graph, depth=1, width=200)
    (row,) = [line for line in text.splitlines() if "affine(…)" in line]
    (step,) = [s for s in explain(result, collapse(graph, 1)) if not hasattr(s, "node")]
    assert [r.node.name for r in step.results] == ["a", "z"]
    assert "→ a" in text and "→ z" in text  # one line for each result
    assert re.match(r"\d+–\d+ +affine\(…\) +call +│ x +in the call", row.strip())


def test_loops_alone_are_not_collapsed():
    graph = loop_graph(calls=False)
    assert collapse(graph, 0) == graph.nodes
    assert table_text(graph, depth=0, width=200) == table_text(graph, width=200)


# --- DOT -----------------------------------------------------------------------------------


def balanced(text: str) -> bool:
    depth = 0
    for char in re.sub(r'"[^"]*"|<[^\n]*>', "", text):  # (not in strings or HTML labels)
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def test_dot_draws_calls_as_nested_clusters():
    text = to_dot(run_graph(nested_graph()))
    assert balanced(text)
    clusters = re.findall(r'subgraph (cluster_\d+) \{\n\s*label="([^"]*)"', text)
    assert [label for _, label in clusters] == ["layer", "affine"]
    outer = text.index("subgraph cluster_0")
    inner = text.index("subgraph cluster_1")
    assert outer < inner < text.index("}", inner) < text.rindex("}")
    # the affine nodes are in the inner cluster
    block = text[inner : text.index("\n    }", inner)]
    assert 'tooltip="affine: a = x*W"' in block and 'tooltip="affine: z = a + b"' in block
    assert "layer: relu(z)" not in block and 'tooltip="layer: relu(z)"' in text


def test_dot_leaves_out_a_frame_round_one_frame_only():
    text = to_dot(run_graph(loop_graph()))
    assert balanced(text)
    labels = re.findall(r'subgraph cluster_\d+ \{\n\s*label="([^"]*)"', text)
    assert labels == ["step, t = 0", "step, t = 1"]  # not t = 0 round step, t = 0


def test_dot_of_a_graph_without_scopes_has_no_cluster():
    assert "subgraph" not in to_dot(run_graph(parse(LOOP)))


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
@pytest.mark.parametrize("make", [loop_graph, nested_graph])
def test_graphviz_reads_the_clusters(make):
    text = to_dot(run_graph(make()))
    done = subprocess.run(["dot", "-Tsvg"], input=text, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.count('class="cluster"') == len(re.findall("subgraph cluster_", text))


def test_a_collapsed_call_sends_an_input_used_twice_the_sum_of_both_wires():
    graph = parse("x = 3.0\ny = x * x + x\nf = y * 2")
    call = Scope(None, "poly")
    for node in graph.nodes:
        if node.op.name in ("mul", "add") and node.name != "f":
            node.scope = call
    result = run_graph(graph)
    (step,) = [s for s in explain(result, collapse(graph, 0)) if not hasattr(s, "node")]
    assert [(inp.name, sent) for inp, sent in step.edges] == [("x", 14.0)]  # (2x + 1)·2
    assert gradient(result, graph.inputs["x"]) == 14.0
    row = re.compile(r"^1–2  poly\(…\) +call +12 +2 │ x +in the call +14$", re.M)
    assert row.search(table_text(graph, depth=0, width=200))
    assert "to x:  downstream = 14  (through the call)" in steps_text(result, depth=0)


# --- real programs, through the command line ----------------------------------------------

RNN = """\
def step(x, h, W):
    a = x * W + h
    next_h = np.tanh(a)
    return next_h
h = 0.5
for t in range(3):
    h = step(1.0, h, 0.5)
loss = h * h
"""


def test_a_loop_of_calls_through_the_command_line(bpcli, tmp_path):
    program = tmp_path / "rnn.bp"
    program.write_text(RNN)
    full = bpcli("grad", str(program))
    assert full.code == 0, full.err
    # (the loop's own rows are the constants it passes, written where they are used)
    assert headings_in(full.out, ["t = 0", "step, t = 0", "step, t = 2", "top level"]) == [
        "step, t = 0",
        "step, t = 2",
        "top level",
    ]
    collapsed = bpcli("grad", str(program), "--depth", "0")
    assert collapsed.code == 0, collapsed.err
    assert collapsed.out.count(" step(…) ") == 3 and "tanh" not in collapsed.out
    summary = full.out[full.out.rindex("\nloss = ") :]
    assert collapsed.out.endswith(summary)  # the same f and gradients
    document = json.loads(bpcli("grad", str(program), "--format", "json").out)
    scopes = [n["scope"] for n in document["nodes"]]
    assert scopes[0] is None and scopes[-1] is None and "step@t=2" in scopes and "@t=1" in scopes
    steps = bpcli("grad", str(program), "--format", "steps", "--depth", "0").out
    assert "to next_h (step, t = 1):  downstream = " in steps
    dot = bpcli("grad", str(program), "--format", "dot").out
    assert balanced(dot) and len(re.findall(r'label="step, t = \d"', dot)) == 3
    wrong = bpcli("check", str(program), "-e", "dh=0.3")
    assert wrong.code == 1 and "a (×3)" in wrong.out  # the chain up to loss, not given, said once


def test_depth_must_be_a_count(bpcli):
    result = bpcli("grad", "x*2", "x=1", "--depth", "-1")
    assert result.code == 2 and "--depth" in result.err


def test_long_scoped_names_fold_at_80_columns_and_are_never_cut_short():
    graph = loop_graph()
    for node in graph.nodes:
        if node.scope is not None:
            node.scope.function = "rnn_step_forward"
    for depth in (None, 0):
        text = table_text(graph, depth=depth)
        assert all(len(line) <= 80 for line in text.splitlines())
        # a name made in another call is its row's id (#5), the call named whole in its heading
        assert "▸ rnn_step_forward, t = 0" in text, text
        right = [line.split("│")[1].split()[0] for line in text.splitlines() if "│ " in line[:60]]
        assert "#5" in right or depth == 0, text
        assert re.search(r"rnn_s\w*…", text) is None, text
