"""The HTML report (`--format html`, `-o report.html`, `check -o report.html`), read with an
HTML parser: self-contained, its data the `--format json` document, every node hooked in
both pictures (Graphviz's and the report's own layout), the steps, arrays, a check's marks,
every sample, and hostile or huge inputs. The script itself runs in the browser tests."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest

import bpcli
from bpcli.core.engine import run
from bpcli.language.parse import parse
from bpcli.present.grad import View, json_text
from bpcli.present.html import MAX_DOT_NODES, MAX_DRAWN, check_page, grad_page
from bpcli.texts import Translator

from conftest import ROOT

SAMPLES = ROOT / "samples"
NEURON = str(SAMPLES / "neuron.bp")
HAVE_DOT = shutil.which("dot") is not None


class Page(HTMLParser):
    """Every element's tag and attributes, in order, the text under each, and the scripts."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.texts: dict[int, list[str]] = {}  # element index -> its text, with its children's
        self._open: list[int] = []
        self._script: dict[str, str | None] | None = None
        self.feed(text)
        self.close()

    VOID: ClassVar[frozenset[str]] = frozenset(
        ("meta", "link", "br", "img", "input", "hr", "path", "rect", "ellipse", "polygon", "polyline")
    )

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        index = len(self.elements) - 1
        self.texts[index] = []
        if tag == "script":
            self._script = dict(attrs)
        if tag not in self.VOID:
            self._open.append(index)

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        self.texts[len(self.elements) - 1] = []

    def handle_endtag(self, tag):
        while self._open:
            index = self._open.pop()
            if self.elements[index][0] == tag:
                break

    def handle_data(self, data):
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None
        for index in self._open:
            self.texts[index].append(data)

    def text(self, index: int) -> str:
        return "".join(self.texts[index])

    def find(self, **wanted: str | None) -> list[int]:
        """Indices of the elements with these attributes (None: present, any value)."""
        found = []
        for i, (_, attrs) in enumerate(self.elements):
            if all(
                k.replace("_", "-") in attrs and (v is None or attrs[k.replace("_", "-")] == v)
                for k, v in wanted.items()
            ):
                found.append(i)
        return found

    def data(self) -> dict:
        (text,) = [t for attrs, t in self.scripts if attrs.get("id") == "bpcli-data"]
        assert attrs_type(self, "bpcli-data") == "application/json"
        return json.loads(text)


def attrs_type(page: Page, element_id: str) -> str | None:
    (index,) = page.find(id=element_id)
    return page.elements[index][1].get("type")


def page_of(program: str, layout: str = "own", lang: str = "en", **bindings) -> tuple[str, object]:
    result = bpcli.grad(program, **bindings)
    r = result._run
    return grad_page(r, json_text(r, View()), 4, Translator(lang), layout=layout), r


def assert_self_contained(text: str) -> None:
    page = Page(text)
    for _, attrs in page.elements:
        for key in ("src", "href", "xlink:href", "action", "srcset", "poster", "data"):
            value = attrs.get(key)
            assert value is None or value.startswith(("#", "data:")), (key, value)
    assert "@import" not in text
    assert all(u.startswith("url(data:") or u.startswith("url(#") for u in re.findall(r"url\([^)]*", text))
    (csp,) = [a for t, a in page.elements if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"]
    assert "default-src 'none'" in (csp["content"] or "")
    assert not re.search(r"https?://(?!www\.w3\.org/)", text)  # (the SVG namespaces only)
    (root,) = [a for t, a in page.elements if t == "html"]
    assert root["class"] == "nojs"


# --- the page of a run ----------------------------------------------------------------------


def test_the_page_is_self_contained_and_embeds_the_json_document(bpcli, tmp_path):
    path = tmp_path / "report.html"
    result = bpcli("grad", NEURON, "-o", str(path))
    assert (result.code, result.err) == (0, f"wrote {path}\n")
    text = path.read_text(encoding="utf-8")
    assert_self_contained(text)
    data = Page(text).data()
    steps = data.pop("steps")
    assert data == json.loads(bpcli("grad", NEURON, "--format", "json").out)
    # the steps: the gates of --format steps, in its order, each with what flows back
    narrated = re.findall(r"^#(\d+) ", bpcli("grad", NEURON, "--format", "steps").out, re.M)
    assert [s["node"] for s in steps] == [int(i) for i in narrated]
    nodes = {n["id"]: n for n in data["nodes"]}
    for step in steps:
        node = nodes[step["node"]]
        assert step["upstream"] == node["upstream"]
        assert [i["input"] for i in step["inputs"]] == node["inputs"]
        assert [i["local"] for i in step["inputs"]] == node["local"]
        assert [i["downstream"] for i in step["inputs"]] == node["downstream"]
    assert steps[0]["node"] == data["nodes"][-1]["id"]  # from the output back


def test_format_html_writes_the_same_page_to_stdout(bpcli, tmp_path):
    path = tmp_path / "r.html"
    bpcli("grad", NEURON, "-o", str(path))
    assert bpcli("grad", NEURON, "--format", "html").out == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "layout", ["own", pytest.param("graphviz", marks=pytest.mark.skipif(not HAVE_DOT, reason="no dot"))]
)
def test_every_node_and_wire_is_hooked_in_both_layouts(layout):
    text, r = page_of(NEURON, layout)
    page = Page(text)
    (circuit,) = page.find(id="circuit")
    assert page.elements[circuit][1]["data-layout"] == layout
    graph = r.graph
    hooked = {
        int(page.elements[i][1]["data-node"]) for i in page.find(data_node=None) if page.elements[i][0] == "g"
    }
    assert hooked == {n.id for n in graph.nodes}
    edges = {page.elements[i][1]["data-edge"] for i in page.find(data_edge=None)}
    wanted = {f"{inp.id}-{n.id}" for n in graph.nodes for inp in n.inputs} | {f"{graph.output.id}-out"}
    assert edges == wanted
    # every hooked element has a title: its native tooltip, with the value and the gradient
    for i in page.find(data_node=None) + page.find(data_edge=None):
        if page.elements[i][0] != "g":
            continue
        title = next(j for j in range(i + 1, len(page.elements)) if page.elements[j][0] == "title")
        assert "value" in page.text(title)
    x0 = graph.inputs["x0"].id
    (mul,) = [n for n in graph.nodes if [i.id for i in n.inputs][-1:] == [x0]]
    tips = [
        page.text(j)
        for i in page.find(data_edge=f"{x0}-{mul.id}")
        for j in [i + 1]
        if page.elements[j][0] == "title"
    ]
    assert tips and "value: -1" in tips[0] and "gradient: 0.3932" in tips[0] and "= w0 = 2" in tips[0]


def test_the_steps_list_and_the_panel_hooks():
    text, _ = page_of(NEURON)
    page = Page(text)
    data = page.data()
    items = page.find(data_step=None, data_gate=None)
    assert [int(page.elements[i][1]["data-gate"]) for i in items] == [s["node"] for s in data["steps"]]
    for name in ("step-first", "step-prev", "step-next", "step-last", "step-panel", "tooltip"):
        assert len(page.find(id=name)) == 1, name
    (tooltip,) = page.find(id="tooltip")
    assert "hidden" in page.elements[tooltip][1]
    # the numbers of each step, at --precision, the full float in data-value
    step = data["steps"][0]
    upstream = next(i for i in page.find(data_role="upstream") if i > items[0])
    assert page.text(upstream) == "1" and float(page.elements[upstream][1]["data-value"]) == step["upstream"]
    for flow in step["inputs"]:
        for role in ("local", "downstream"):
            (cell,) = [
                i for i in page.find(data_role=role, data_input=str(flow["input"])) if items[0] < i < items[1]
            ]
            shown = page.text(cell)
            if flow[role] is None:
                assert shown == "—"
            else:
                assert float(page.elements[cell][1]["data-value"]) == flow[role]
                assert abs(float(shown) - flow[role]) <= 5e-4 * max(1, abs(flow[role]))


def test_narration_in_chinese():
    text, _ = page_of(NEURON, lang="zh")
    page = Page(text)
    (root,) = [a for t, a in page.elements if t == "html"]
    assert root["lang"] == "zh-Hans"
    # each line of the narration whole, a block the browser folds, as --format steps writes
    # it at any width
    blocks = [i for i, (t, a) in enumerate(page.elements) if t == "span" and a.get("class") == "line"]
    lines = [page.text(i) for i in blocks]
    steps = [line.strip() for line in bpcli.grad(NEURON).steps(lang="zh", width=100_000).splitlines()]
    assert len(lines) > 20 and all(line.strip() in steps for line in lines)
    assert "上游梯度" in text and "下一步" in text


def test_arrays_show_their_shape_a_summary_and_every_value_behind_a_click():
    text, r = page_of(str(SAMPLES / "two_layer_net.bp"))
    page = Page(text)
    shaped = page.find(data_shape=None)
    assert shaped and all(re.fullmatch(r"\d+(×\d+)*", page.elements[i][1]["data-shape"]) for i in shaped)
    details = [i for i, (t, _) in enumerate(page.elements) if t == "details"]
    assert details
    W1 = r.values[r.graph.inputs["W1"].id]
    shown = [page.text(i) for i in details if "(4×5)" in page.text(i)]
    assert (
        any(all(f"{x:.4g}"[:5].rstrip("0").rstrip(".") in s for x in W1.ravel()[:3]) for s in shown) or shown
    )


def test_the_own_layout_is_chosen_in_code_and_hooks_the_same():
    own, _ = page_of(NEURON, "own")
    assert 'data-layout="own"' in own and "<svg" in own


# --- a check ---------------------------------------------------------------------------------


def test_check_report_marks_right_and_wrong_and_the_first_wrong_step(bpcli, tmp_path):
    path = tmp_path / "check.html"
    result = bpcli("check", NEURON, "-e", "dx0=0.39", "-e", "dw0=0.2", "-e", "dw1=-0.39", "-o", str(path))
    assert (result.code, result.err) == (1, f"wrote {path}\n")
    text = path.read_text(encoding="utf-8")
    assert_self_contained(text)
    page = Page(text)
    data = page.data()
    expected = json.loads(
        bpcli("check", NEURON, "-e", "dx0=0.39", "-e", "dw0=0.2", "-e", "dw1=-0.39", "--format", "json").out
    )
    assert data["check"] == expected
    grad = {k: v for k, v in data.items() if k not in ("steps", "check", "answers")}
    assert grad == json.loads(bpcli("grad", NEURON, "--format", "json").out)
    graph = bpcli_run(NEURON).graph
    ids = {name: graph.inputs[name].id for name in ("x0", "w0", "w1")}
    assert [a["node"] for a in data["answers"]] == [ids["x0"], ids["w0"], ids["w1"]]

    def answer(node: int) -> str | None:
        (i,) = [i for i in page.find(data_node=str(node)) if page.elements[i][0] == "g"]
        return page.elements[i][1].get("data-answer")

    assert (answer(ids["x0"]), answer(ids["w0"]), answer(ids["w1"])) == ("right", "wrong", "right")
    first = [page.elements[i][1] for i in page.find(data_first_wrong=None)]
    assert first and all(
        a.get("data-node") == str(ids["w0"]) or a.get("data-from") == str(ids["w0"]) for a in first
    )
    wires = [page.elements[i][1]["data-answer"] for i in page.find(data_from=str(ids["w0"]))]
    assert wires and set(wires) == {"wrong"}
    # ✓ and ✗, not colour alone, and the diagnosis in the wrong node's title
    assert "✓" in text and "✗" in text
    (w0,) = [i for i in page.find(data_node=str(ids["w0"])) if page.elements[i][0] == "g"]
    assert "sign error" in page.text(w0 + 1)


def bpcli_run(path: str):
    return bpcli.grad(path)._run


def test_check_format_html_to_stdout_and_the_out_extensions(bpcli, tmp_path):
    result = bpcli("check", NEURON, "-e", "dx0=0.39", "--format", "html")
    assert result.code == 0 and result.out.startswith("<!DOCTYPE html>")
    path = tmp_path / "r.json"
    assert bpcli("check", NEURON, "-e", "dx0=0.39", "-o", str(path)).code == 0
    assert json.loads(path.read_text())["correct"] == 1
    bad = bpcli("check", NEURON, "-e", "dx0=0.39", "-o", str(tmp_path / "r.xyz"))
    assert bad.code == 2 and "names no format" in bad.err and not (tmp_path / "r.xyz").exists()
    clash = bpcli("check", NEURON, "-e", "dx0=0.39", "-o", str(tmp_path / "r.html"), "--format", "json")
    assert clash.code == 2 and "not --format json" in clash.err


def test_check_page_from_python_marks_in_the_own_layout():
    from bpcli.grading.answers import expectations
    from bpcli.grading.diagnose import check

    r = bpcli_run(NEURON)
    verdicts = check(
        r, expectations([("dx0", "0.39", None), ("dx1", "0.59", None)], set(r.graph.names), None)
    )
    page = Page(check_page(r, json_text(r, View(tr=Translator())), verdicts, layout="own"))
    x1 = r.graph.inputs["x1"].id
    (g,) = [i for i in page.find(data_node=str(x1)) if page.elements[i][0] == "g"]
    assert page.elements[g][1]["data-answer"] == "wrong" and "data-first-wrong" in page.elements[g][1]


@pytest.mark.parametrize(
    "layout", ["own", pytest.param("graphviz", marks=pytest.mark.skipif(not HAVE_DOT, reason="no dot"))]
)
def test_a_wrong_answer_is_written_beside_its_mark(layout):
    """On the circuit, a wrong number stands beside its ✗ as the student wrote it (a right
    one has its ✓ alone, and a long one is left to the tooltip)."""
    from bpcli.grading.answers import expectations
    from bpcli.grading.diagnose import check

    r = bpcli_run(NEURON)
    given = [("dx0", "0.39", None), ("dx1", "0.59", None), ("dw0", "0.123456789012345", None)]
    verdicts = check(r, expectations(given, set(r.graph.names), None))
    text = check_page(r, json_text(r, View(tr=Translator())), verdicts, layout=layout)
    page = Page(text)
    badges = [page.text(i) for i, (t, a) in enumerate(page.elements) if "badge" in (a.get("class") or "")]
    assert sorted(badges) == ["✓", "✗", "✗0.59"], badges
    assert '<tspan class="yours" dx="3">0.59</tspan>' in text


# --- every sample ------------------------------------------------------------------------------


def _header_command(path: Path) -> list[str]:
    """The command a cs231n sample's header gives ("Run it from the repository root:")."""
    lines = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("#   bpcli grad"))
    command = ""
    for line in lines[at:]:
        part = line.lstrip("#").strip()
        command += " " + part.rstrip("\\").strip()
        if not part.endswith("\\"):
            break
    return shlex.split(command)[2:]  # (after `bpcli grad`)


# the tour's samples that need bindings: as docs/language.md runs them
TOUR_BINDINGS = {"svm.bp": ["W=[[0.1,-0.2,0.3],[0.4,0.5,-0.6]]", "X=[[1,2],[3,-1],[0.5,0.5]]", "y=[0,2,1]"]}

SAMPLE_RUNS = [
    *[(p.relative_to(ROOT).as_posix(), [str(p)]) for p in sorted(SAMPLES.glob("*.bp"))],
    *[
        (p.relative_to(ROOT).as_posix(), [str(p), *TOUR_BINDINGS.get(p.name, [])])
        for p in sorted((SAMPLES / "tour").glob("*.bp"))
    ],
    ("samples/homework/softmax.bp", [str(SAMPLES / "homework" / "softmax.bp")]),
    *[
        (p.relative_to(ROOT).as_posix(), _header_command(p))
        for p in sorted((SAMPLES / "cs231n").glob("*.bp"))
    ],
]


@pytest.mark.parametrize(("name", "args"), SAMPLE_RUNS, ids=[n for n, _ in SAMPLE_RUNS])
def test_every_sample_writes_its_report(bpcli, tmp_path, monkeypatch, name, args):
    monkeypatch.chdir(ROOT)
    path = tmp_path / "report.html"
    args = [*args, "--seed", "0"]  # (a program that draws random numbers draws the same twice)
    result = bpcli("grad", *args, "-o", str(path))
    assert result.code == 0, result.err
    text = path.read_text(encoding="utf-8")
    assert_self_contained(text)
    page = Page(text)
    data = page.data()
    hooked = {
        page.elements[i][1]["data-node"] for i in page.find(data_node=None) if page.elements[i][0] == "g"
    }
    assert hooked == {str(n["id"]) for n in data["nodes"]}
    assert len(page.find(data_gate=None)) == len(data["steps"])
    data.pop("steps")
    assert data == json.loads(bpcli("grad", *args, "--format", "json").out)


# --- hostile and huge -----------------------------------------------------------------------------


def test_markup_in_the_program_is_escaped_everywhere(bpcli, tmp_path):
    program = "# </script><b>bold</b><!-- & -->\nq = x*(x < 3) + 1\nf = q*y"
    for layout in ("own", *(["graphviz"] if HAVE_DOT else [])):
        text, _ = page_of(program, layout, x=2, y=-1)
        page = Page(text)
        assert not [t for t, _ in page.elements if t == "b"]
        (data,) = [t for a, t in page.scripts if a.get("id") == "bpcli-data"]
        assert "<" not in data and ">" not in data and "&" not in data
        assert any("x < 3" in n["label"] for n in page.data()["nodes"])
        assert "</script><b>" in "".join(page.text(i) for i, (t, _) in enumerate(page.elements) if t == "pre")


def chain(links: int) -> tuple[object, object]:
    lines = ["a0 = x"] + [f"a{i} = a{i - 1}*0.999 + x" for i in range(1, links)]
    graph = parse("\n".join(lines), {"x": 1.0})
    return graph, run(graph)


def test_a_graph_of_max_drawn_nodes_is_drawn_whole():
    graph, r = chain(MAX_DRAWN // 3)
    assert MAX_DOT_NODES < len(graph.nodes) <= MAX_DRAWN
    text = grad_page(r, json_text(r, View()), 4, layout="auto")  # (beyond MAX_DOT_NODES: the own layout)
    assert 'data-layout="own"' in text and 'class="too-big"' not in text
    gates = sum(1 for n in graph.nodes if n.inputs and r.grads[n.id] is not None)
    assert text.count('data-node="') >= len(graph.nodes) and text.count('class="step"') == gates > 600


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_graph_beyond_max_drawn_nodes_is_not_drawn_and_the_page_says_so(lang):
    graph, r = chain(MAX_DRAWN // 3 + 2)
    assert len(graph.nodes) > MAX_DRAWN
    tr = Translator(lang)
    text = grad_page(r, json_text(r, View()), 4, tr, layout="auto")
    page = Page(text)
    (circuit,) = page.find(id="circuit")
    assert page.elements[circuit][1]["data-layout"] == "none" and "<svg" not in text
    nodes = f"{len(graph.nodes):,}"
    assert tr("html.too-big", nodes=nodes, limit=f"{MAX_DRAWN:,}") in page.text(circuit)
    assert tr("html.nodes-cut", shown=f"{MAX_DRAWN:,}", nodes=nodes) in text
    rows = page.find(data_row=None)
    assert len(rows) == MAX_DRAWN and page.elements[rows[-1]][1]["data-row"] == str(graph.output.id)
    data = page.data()  # the JSON document whole; the steps, those the page lists
    assert len(data["nodes"]) == len(graph.nodes)
    gates = sum(1 for n in graph.nodes if n.inputs and r.grads[n.id] is not None)
    assert len(data["steps"]) == text.count('class="step"') == min(gates, MAX_DRAWN)
    assert data["steps"][0]["node"] == graph.output.id


def test_a_graph_far_beyond_max_drawn_lists_only_max_drawn_steps():
    graph, r = chain(MAX_DRAWN // 2 + 10)  # (each link two gates)
    text = grad_page(r, json_text(r, View()), 4, layout="auto")
    steps = Page(text).data()["steps"]
    assert len(steps) == text.count('class="step"') == MAX_DRAWN
    gates = sum(1 for n in graph.nodes if n.inputs and r.grads[n.id] is not None)
    assert Translator()("html.steps-cut", shown=f"{MAX_DRAWN:,}", steps=f"{gates:,}") in text


def test_no_script_still_shows_every_step_and_number():
    text, _ = page_of(NEURON)
    # without the script: the steps are a list in the page, the stepper is hidden by .nojs
    assert '<html lang="en" class="nojs">' in text
    assert ".nojs .js-only { display: none; }" in text
    assert re.search(r'<aside id="stepper" class="js-only"', text)
    assert "@media print" in text


def test_the_api_writes_html():
    r = bpcli.grad("(x+y)*z", x=-2, y=5, z=-4)
    text = r.format("html")
    assert text == r.to_html()
    assert Page(text).data()["value"] == -12.0
    c = bpcli.check("(x+y)*z", dict(x=-2, y=5, z=-4), answers={"dx": -4, "dz": 4})
    page = Page(c.to_html())
    assert {a["ok"] for a in page.data()["answers"]} == {True, False}


def test_check_out_never_writes_over_what_it_reads(bpcli, tmp_path):
    answers = tmp_path / "answers.txt"
    answers.write_text("dx0 = 0.39\n")
    result = bpcli("check", NEURON, "--answers", str(answers), "-o", str(answers))
    assert result.code == 2 and "would write over" in result.err
    assert answers.read_text() == "dx0 = 0.39\n"
    many = bpcli("check", NEURON, "--answers", str(answers), str(answers), "-o", str(tmp_path / "r.html"))
    assert many.code == 2 and "one student's answers" in many.err


@pytest.mark.skipif(not HAVE_DOT, reason="no dot")
def test_graphviz_wires_get_a_wide_hover_line_and_lose_dots_own_tooltips():
    text, _ = page_of(NEURON, "graphviz")
    page = Page(text)
    hits = [a for t, a in page.elements if t == "path" and a.get("class") == "hit"]
    lines = [a for t, a in page.elements if t == "path" and a.get("class") != "hit"]
    assert hits and len(hits) == len(lines)
    assert "xlink:title" not in text and "<!--" not in text


@pytest.mark.parametrize(
    "layout", ["own", pytest.param("graphviz", marks=pytest.mark.skipif(not HAVE_DOT, reason="no dot"))]
)
def test_a_gradient_answer_where_its_node_fans_out_marks_the_trunk_not_the_branches(layout):
    from bpcli.grading.answers import expectations
    from bpcli.grading.diagnose import check

    r = bpcli.grad("f = x*y + x", x=2, y=-3)._run
    graph = r.graph
    x = graph.inputs["x"].id
    verdicts = check(r, expectations([("dx", "4", None)], set(graph.names), None))  # (the truth: y + 1 = -2)
    page = Page(check_page(r, json_text(r, View(tr=Translator())), verdicts, layout=layout))
    trunk = [page.elements[i][1] for i in page.find(data_trunk=None, data_from=str(x))]
    branches = [page.elements[i][1] for i in page.find(data_edge=None, data_from=str(x))]
    assert trunk and all(a["data-answer"] == "wrong" and "data-first-wrong" in a for a in trunk)
    assert branches and not any("data-answer" in a for a in branches)
    (node,) = [i for i in page.find(data_node=str(x)) if page.elements[i][0] == "g"]
    assert page.elements[node][1]["data-answer"] == "wrong"
    assert "✗ dx = 4" in page.text(node + 1)


@pytest.mark.parametrize("drawn", [None, '<svg xmlns="http://www.w3.org/2000/svg"><g id="x"/></svg>'])
def test_without_a_usable_picture_from_dot_the_own_layout_draws_it(monkeypatch, drawn):
    import bpcli.present.dot as dot

    monkeypatch.setattr(dot, "svg_text", lambda *args, **kwargs: drawn)  # no dot, a timeout, another SVG
    text, r = page_of(NEURON, "graphviz")
    assert 'data-layout="own"' in text
    assert text.count(" data-node=") == len(r.graph.nodes)


def test_a_check_of_array_answers(bpcli, tmp_path):
    path = tmp_path / "hw.html"
    homework = SAMPLES / "homework"
    answers = homework / "answers_student.txt"
    result = bpcli("check", str(homework / "softmax.bp"), "--answers", str(answers), "-o", str(path))
    assert result.code == 1
    page = Page(path.read_text(encoding="utf-8"))
    data = page.data()
    wrong = [r for r in data["check"]["results"] if not r["ok"]]
    assert wrong and len(page.find(data_first_wrong=None)) >= 1
    rows = [i for i, (t, a) in enumerate(page.elements) if t == "tr" and a.get("class") in ("right", "wrong")]
    assert len(rows) == len(data["check"]["results"])
    cells = " ".join(page.text(i) for i in rows)
    assert "✗" in cells and "✓" in cells and "(4×3)" in cells  # (an array summarised, its shape)


def test_array_pages_put_no_block_inside_a_paragraph():
    # an array's values are a <details>, which a <p> may not hold (the parser would close it)
    text, _ = page_of(str(SAMPLES / "two_layer_net.bp"))
    assert "<details" in text
    for paragraph in re.findall(r"<p\b.*?</p>", text, flags=re.S):
        assert not re.search(r"<(details|div|table|pre|ul|ol|section)\b", paragraph), paragraph[:200]


def test_a_class_has_no_html_report(bpcli):
    homework = SAMPLES / "homework"
    program, answers = str(homework / "softmax.bp"), str(homework / "class")
    result = bpcli("check", program, "--answers", answers, "--format", "html")
    assert result.code == 2 and result.err.startswith("error: --format html is for one student's answers")
    assert result.out == ""


def test_htm_is_html_too(bpcli, tmp_path):
    for command in (("grad", NEURON), ("check", NEURON, "-e", "dx0=0.39")):
        out = tmp_path / f"{command[0]}.htm"
        result = bpcli(*command, "-o", str(out))
        assert result.code in (0, 1) and out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_panel_heads_the_formula_and_its_value_apart(lang):
    text, _ = page_of(NEURON, lang=lang)
    page = Page(text)
    table = next(i for i, (t, a) in enumerate(page.elements) if t == "table" and a.get("class") == "flow")
    heads = [page.text(i) for i, (t, _) in enumerate(page.elements) if t == "th" and i > table][:4]
    tr = Translator(lang)
    assert heads == [tr("html.input"), tr("html.formula"), tr("html.local-value"), tr("html.downstream")]
    assert len(set(heads)) == 4 and "∂/∂" in heads[1] and heads[2].startswith("=")


def test_the_summary_lists_only_the_gradients_asked_for(bpcli, tmp_path):
    out = tmp_path / "w.html"
    assert bpcli("grad", str(NEURON), "--wrt", "w0,x1", "-o", str(out)).code == 0

    class Terms(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.terms = False, []

        def handle_starttag(self, tag, attrs):
            self.inside = self.inside or (tag == "dl" and ("class", "summary") in attrs)
            self.dt = tag == "dt" and self.inside

        def handle_endtag(self, tag):
            self.inside = self.inside and tag != "dl"
            self.dt = False

        def handle_data(self, data):
            if getattr(self, "dt", False):
                self.terms.append(data)

    terms = Terms()
    terms.feed(out.read_text(encoding="utf-8"))
    assert terms.terms == ["f", "∂f/∂w0", "∂f/∂x1"]
