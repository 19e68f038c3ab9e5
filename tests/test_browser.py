"""Issue 19, part 4: the HTML report in a real browser.

Headless Chromium, the system's (Debian's `chromium`, which .ci/run installs), driven by
Playwright pointed at that binary: Playwright's own browser builds are never downloaded.
Without Playwright or a browser these tests skip with the reason; with BPCLI_BROWSER=required
(.ci/run sets it when the browser is there) they fail instead, so that CI cannot pass by
skipping them.

What a person does with a report, checked against `bpcli grad --format json` of the same run:
open it with every request blocked and recorded (none may leave the page, no console error),
step through the whole backward pass with the keys and the buttons (the highlighted gate and
the panel's upstream, local and downstream gradients at each step), hover a wire and a node,
read it with JavaScript off and printed, check a student's answers, and read it in Chinese.
The expected order and numbers are computed here from the JSON's nodes, not read from the
report.
"""

from __future__ import annotations

import json
import math
import os
import re
import shlex
import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pytest

from bpcli.cli import main

from conftest import SAMPLES

# Headless, and nothing that would reach the network by itself; Playwright's launch adds a
# fresh temporary profile (--user-data-dir) and removes it on close.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
BROWSERS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
GRAD_SAMPLES = ["neuron", "fanout", "matrix", "two_layer_net"]
GATE_OPS_NOT = ("input", "const")


def chromium() -> str | None:
    """The browser to drive: $BPCLI_CHROMIUM, or the first of BROWSERS on the PATH."""
    return os.environ.get("BPCLI_CHROMIUM") or next(filter(None, map(shutil.which, BROWSERS)), None)


def unavailable(reason: str) -> NoReturn:
    if os.environ.get("BPCLI_BROWSER") == "required":
        pytest.fail(f"{reason} (and BPCLI_BROWSER=required)")
    pytest.skip(reason)


def start(stack: ExitStack) -> Any:
    """Playwright and the system's Chromium, headless; skips (or fails, when required) with
    the reason when either is missing or the browser will not start."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        unavailable("Playwright is not installed (pip install '.[test]')")
    path = chromium()
    if path is None:
        unavailable("no Chromium on the PATH (apt-get install chromium, or set BPCLI_CHROMIUM)")
    playwright = stack.enter_context(sync_playwright())
    try:
        return playwright.chromium.launch(executable_path=path, args=FLAGS)
    except Error as error:
        unavailable(f"{path} would not start: {error.message.splitlines()[0]}")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole module."""
    with ExitStack() as stack:
        launched = start(stack)
        yield launched
        launched.close()


# ---------------------------------------------------------------------------------------------
# Reports and what they should show


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """reports(command, program, *options) -> (the .html, the --format json document),
    written once each by the real command line."""
    folder = tmp_path_factory.mktemp("reports")
    made: dict[tuple[str, ...], tuple[Path, Any]] = {}

    def make(command: str, program: str, *options: str, graphviz: bool = True) -> tuple[Path, Any]:
        key = (command, program, *options, str(graphviz))
        if key not in made:
            stem = folder / f"r{len(made)}"
            html, doc = stem.with_suffix(".html"), stem.with_suffix(".json")
            path = os.environ["PATH"]
            if not graphviz:  # no dot on the PATH: the report draws its own layout
                os.environ["PATH"] = str(folder / "nothing")
            try:
                assert main([command, program, *options, "-o", str(html)]) in (0, 1)
            finally:
                os.environ["PATH"] = path
            assert main([command, program, *options, "--format", "json", "-o", str(doc)]) in (0, 1)
            made[key] = (html, json.loads(doc.read_text(encoding="utf-8")))
        return made[key]

    yield make


@dataclass
class Expected:
    """One step of the backward pass: the gate, its upstream gradient, and per input (id,
    local, downstream)."""

    node: int
    label: str
    upstream: Any
    inputs: list[tuple[int, Any, Any]] = field(default_factory=list)


def backward_steps(doc: dict[str, Any]) -> list[Expected]:
    """The gates from the output to the inputs: the JSON's nodes are in forward (topological)
    order, so the backward pass is that order reversed, over the gates the output depends on
    (a program may go on after its output: `loss, dW = f(…)`) and a gradient reaches."""
    nodes = doc["nodes"]
    named = [n["id"] for n in nodes if n["name"] == doc["output"]]
    output = named[-1] if named else nodes[-1]["id"]
    wanted = {output}
    steps = []
    for node in reversed(nodes[: output + 1]):
        if node["id"] not in wanted:
            continue
        wanted.update(node["inputs"])
        if node["op"] in GATE_OPS_NOT or node["upstream"] is None:
            continue
        inputs = list(zip(node["inputs"], node["local"], node["downstream"], strict=True))
        steps.append(Expected(node["id"], node["label"], node["upstream"], inputs))
    return steps


# ---------------------------------------------------------------------------------------------
# Numbers as shown

NUMBER = re.compile(r"[-−]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+−]?\d+)?")


def numbers(text: str) -> list[str]:
    return NUMBER.findall(text)


def _flat(value: Any) -> list[float]:
    if isinstance(value, list):
        return [x for item in value for x in _flat(item)]
    return [float(value)]


def shows(text: str, expected: Any) -> bool:
    """Whether `text` shows the number (or every element of the array) `expected`, in order,
    each to the digits written: -0.5344 shows -0.534446…, 0.088 shows 0.0880000001."""
    want = _flat(expected)
    shown = numbers(text)
    for start in range(len(shown) - len(want) + 1):
        if all(_rounds_to(shown[start + k], w) for k, w in enumerate(want)):
            return True
    return False


def _rounds_to(written: str, exact: float) -> bool:
    written = written.replace("−", "-")
    mantissa, _, exponent = written.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = 10.0 ** (int(exponent or 0) - decimals)
    return math.isclose(float(written), exact, rel_tol=1e-12, abs_tol=0.5 * unit * (1 + 1e-9))


# ---------------------------------------------------------------------------------------------
# A report open in a page


class Report:
    """A page showing one report; every request it makes is recorded, and blocked unless it
    is for the report's own file."""

    def __init__(self, browser: Any, path: Path | None = None, **context: Any) -> None:
        self.url = ""
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(**context)
        self.context.set_default_timeout(5000)  # a missing element fails in seconds, not 30
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("websocket", lambda w: self.requests.append(w.url))
        if path is not None:
            self.open(path)

    def open(self, path: Path) -> Report:
        """Show this report (in the same page: a new document, the records started anew)."""
        self.url = path.resolve().as_uri()
        self.requests.clear()
        self.errors.clear()
        self.page.mouse.move(0, 0)  # over nothing, whatever the last report left there
        self.page.goto(self.url)
        return self

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == self.url:
            route.continue_()
        else:
            self.requests.append(url)
            route.abort()

    def assert_clean(self) -> None:
        assert self.requests == [], "the report asked for more than its own file"
        assert self.errors == []

    def close(self) -> None:
        self.context.close()

    # what the page shows

    def data(self) -> Any:
        return json.loads(self.page.locator("script#bpcli-data").text_content() or "")

    def state(self) -> dict[str, Any]:
        """What the stepping shows now, read in one call: the step number, the highlighted
        nodes and wires, and the panel (its gate, and the text of each of its parts)."""
        return self.page.evaluate(STATE_JS)

    def hover_text(self, selector: str) -> str:
        """Point at an element as a person would, and read the tooltip: a wire on its line
        (halfway along), anything else where Playwright points, the middle of its box."""
        target = self.page.locator(selector).first
        target.scroll_into_view_if_needed()
        point = target.evaluate(MIDDLE_OF_LINE_JS)
        if point is None:
            target.hover()
        else:
            self.page.mouse.move(point["x"], point["y"])
        tooltip = self.page.locator("#tooltip")
        tooltip.wait_for(state="visible")
        return tooltip.inner_text()


@pytest.fixture(scope="module")
def one_page(browser: Any) -> Iterator[Report]:
    """One page for many reports, each opened in turn (a new page costs a new process)."""
    report = Report(browser)
    yield report
    report.close()


@pytest.fixture
def open_report(browser: Any) -> Iterator[Any]:
    opened: list[Report] = []

    def open_(path: Path, **context: Any) -> Report:
        opened.append(Report(browser, path, **context))
        return opened[-1]

    yield open_
    for report in opened:
        report.close()


# The point halfway along a wire's line (its first path), in the page's coordinates; null
# for an element with no line.
MIDDLE_OF_LINE_JS = """(element) => {
  const line = element.matches('path') ? element : element.querySelector('path:not(.hit)');
  if (!element.hasAttribute('data-edge') || !line) return null;
  const p = line.getPointAtLength(line.getTotalLength() / 2);
  const m = line.getScreenCTM();
  return { x: m.a * p.x + m.c * p.y + m.e, y: m.b * p.x + m.d * p.y + m.f };
}"""
PARTS_JS = """(element) => Array.from(element.querySelectorAll('[data-role]'), (e) => ({
  role: e.dataset.role, input: e.dataset.input, index: e.dataset.index,
  text: e.textContent, value: e.dataset.value, shape: e.dataset.shape,
}))"""
# What can be seen of the circuit's nodes and of the list of steps, in one call. Seen: a box
# of some size, not hidden by display, visibility or opacity.
SHOWN_JS = """() => {
  const parts = PARTS_JS;
  const seen = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0
    && e.checkVisibility({visibilityProperty: true, opacityProperty: true}); };
  const nodes = {};
  for (const e of document.querySelectorAll('#circuit svg [data-node]')) nodes[e.dataset.node] = seen(e);
  const steps = Array.from(document.querySelectorAll('#steps [data-step]'), (e) => ({
    step: e.dataset.step, gate: e.dataset.gate, visible: seen(e), text: e.innerText, parts: parts(e),
  }));
  return { nodes, steps };
}""".replace("PARTS_JS", PARTS_JS)
STATE_JS = f"""() => {{
  const parts = {PARTS_JS};
  const root = document.body.hasAttribute('data-step') ? document.body : document.documentElement;
  const panel = document.getElementById('step-panel');
  return {{
    step: root.getAttribute('data-step'),
    nodes: Array.from(document.querySelectorAll('.current[data-node]'), (e) => e.dataset.node),
    wires: Array.from(document.querySelectorAll('.current[data-edge]'), (e) => e.dataset.edge),
    panel: panel && panel.getAttribute('data-node'),
    visible: !!panel && panel.getClientRects().length > 0,
    parts: panel ? parts(panel) : [],
  }};
}}"""


def shape(value: Any) -> list[int]:
    dims = []
    while isinstance(value, list):
        dims.append(len(value))
        value = value[0] if value else None
    return dims


def assert_shown(part: dict[str, Any] | None, expected: Any, where: object) -> None:
    """One number (or array) of the panel: its text to the digits shown, its data-value (the
    full float) exactly, an array's data-shape; an array too long for the panel is summarised
    (…), and its first element still shows."""
    if expected is None:  # a constant's downstream: nothing flows there
        assert part is None or not numbers(part["text"]), where
        return
    assert part is not None, where
    text = part["text"]
    if not isinstance(expected, list):
        assert shows(text, expected), (where, text, expected)
        if part.get("value") is not None:
            assert float(part["value"]) == expected, (where, part["value"], expected)
        return
    if part.get("shape") is not None:
        assert part["shape"] == "×".join(map(str, shape(expected))), (where, part["shape"])
    values = _flat(expected)
    shown = numbers(re.sub(r"\(\d+(?:×\d+)*\)$", "", text.strip()))  # without the shape
    if " to " in text:  # the range of an array too long to show: -0.1562 to 0.1247 (3×5)
        assert len(shown) == 2, (where, text)
        assert _rounds_to(shown[0], min(values)) and _rounds_to(shown[1], max(values)), (where, text)
    elif "…" in text:  # its first and last elements: [[0.1, 0.2, …, 0.4], …] (4×3)
        assert any(_rounds_to(shown[0], v) for v in values[:1]), (where, text)
        assert all(any(_rounds_to(x, v) for v in values) for x in shown), (where, text)
    else:
        assert shows(text, expected) and len(shown) == len(values), (where, text, expected)


def assert_at(report: Report, k: int, step: Expected) -> None:
    """The page is at step k: that gate and its input wires highlighted, and the panel shows
    its upstream gradient and, for each input, the local and downstream gradients."""
    state = report.state()
    where = f"step {k}, {step.label}"
    assert state["step"] == str(k), where
    assert set(state["nodes"]) == {str(step.node)}, where
    assert state["panel"] == str(step.node) and state["visible"], where
    assert {w.split("-")[-1] for w in state["wires"]} == {str(step.node)}, where
    assert_gradients(state["parts"], step, where)


def assert_gradients(parts: list[dict[str, Any]], step: Expected, where: object) -> None:
    """A step's numbers (of the panel, or of its item in the list): the upstream gradient,
    and for each input the local and downstream gradients."""
    (upstream,) = [p for p in parts if p["role"] == "upstream"]
    assert_shown(upstream, step.upstream, where)
    for index, (input_id, local, downstream) in enumerate(step.inputs):
        for role, expected in (("local", local), ("downstream", downstream)):
            mine = [p for p in parts if p["role"] == role and p["input"] == str(input_id)]
            if len(mine) > 1:  # x*x: the input x twice, told apart by data-index
                mine = [p for p in mine if p["index"] == str(index)]
            assert len(mine) <= 1, (where, role, input_id)
            if role == "local" and expected is None:
                continue  # a Jacobian, never built (or a constant)
            assert_shown(mine[0] if mine else None, expected, (where, role, input_id))


def assert_every_step_shown(report: Report, doc: dict[str, Any]) -> None:
    """The circuit's nodes and every step of the backward pass (its gate, its upstream,
    local and downstream gradients) can be seen."""
    shown = report.page.evaluate(SHOWN_JS)
    hidden = [n["label"] for n in doc["nodes"] if not shown["nodes"].get(str(n["id"]))]
    assert hidden == [], "nodes of the circuit not shown"
    expected = backward_steps(doc)
    assert [item["gate"] for item in shown["steps"]] == [str(step.node) for step in expected]
    for k, (item, step) in enumerate(zip(shown["steps"], expected, strict=True)):
        where = f"step {k}, {step.label}, in the list"
        assert item["step"] == str(k) and item["visible"], where
        assert step.label in words(item["text"]), where
        assert_gradients(item["parts"], step, where)


def words(text: str) -> str:
    """The text as read, whatever its lines: the narration is folded as --format steps folds it."""
    return " ".join(text.split())


def unfolded(text: str) -> str:
    """The text without its white space: a sentence folded onto two lines is found, in
    Chinese too (where a fold adds no space)."""
    return "".join(text.split())


def neuron_graph() -> Any:
    """The neuron's graph, for the local-gradient formulas the tooltips show."""
    from bpcli.language.parse import parse

    return parse((SAMPLES / "neuron.bp").read_text(encoding="utf-8"), {})


# ---------------------------------------------------------------------------------------------
# The tests


STEPPED = [*((sample, True) for sample in GRAD_SAMPLES), ("fanout", False), ("matrix", False)]


@pytest.mark.parametrize(("sample", "graphviz"), STEPPED)
def test_step_through_the_backward_pass(one_page: Report, reports, sample: str, graphviz: bool) -> None:
    """Every sample with Graphviz's picture (when dot is installed), and a fan-out and arrays
    in the report's own layout."""
    html, doc = reports("grad", str(SAMPLES / f"{sample}.bp"), graphviz=graphviz)
    expected = backward_steps(doc)
    assert len(expected) >= 2
    report = one_page.open(html)
    page = report.page
    drawn_by = "graphviz" if graphviz and shutil.which("dot") else "own"
    assert page.locator("#circuit").get_attribute("data-layout") == drawn_by

    # The embedded data is the JSON document of the same run.
    data = report.data()
    assert {key: data[key] for key in doc} == doc
    assert [step["node"] for step in data["steps"]] == [step.node for step in expected]

    # It opens at the output's gate; from there to the inputs, one key press a gate.
    assert_at(report, 0, expected[0])
    page.keyboard.press("End")
    page.keyboard.press("Home")
    for k, step in enumerate(expected):
        if k:
            page.keyboard.press("ArrowRight")
        assert_at(report, k, step)
    page.keyboard.press("ArrowRight")  # past the last gate: it stays there
    assert_at(report, len(expected) - 1, expected[-1])
    for k in range(len(expected) - 2, -1, -1):
        page.keyboard.press("ArrowLeft")
        assert_at(report, k, expected[k])
    page.keyboard.press("ArrowLeft")  # before the first: it stays there
    assert_at(report, 0, expected[0])

    # End and Home jump; the buttons step too, those that lead nowhere disabled.
    last = len(expected) - 1
    page.keyboard.press("End")
    assert_at(report, last, expected[last])
    assert page.is_disabled("#step-next") and page.is_disabled("#step-last")
    page.click("#step-first")
    assert_at(report, 0, expected[0])
    assert page.is_disabled("#step-prev") and page.is_disabled("#step-first")
    assert page.is_enabled("#step-next") and page.is_enabled("#step-last")
    page.click("#step-next")
    assert_at(report, 1, expected[1])
    page.click("#step-prev")
    assert_at(report, 0, expected[0])
    page.click("#step-last")
    assert_at(report, last, expected[last])

    # A click on a gate of the circuit, or on a step of the list, goes there.
    middle = len(expected) // 2
    page.click(f'#circuit [data-node="{expected[middle].node}"]')
    assert_at(report, middle, expected[middle])
    page.click('#steps [data-step="0"] h3')
    assert_at(report, 0, expected[0])
    report.assert_clean()


def test_an_array_shows_its_values_on_click(one_page: Report, reports) -> None:
    """In the panel an array too long for a line is summarised with its shape; a click shows
    every value."""
    html, doc = reports("grad", str(SAMPLES / "two_layer_net.bp"))
    step = backward_steps(doc)[-1]  # X @ W1, the last gate: what reaches W1
    w1 = step.inputs[1][0]
    report = one_page.open(html)
    page = report.page
    page.keyboard.press("End")
    assert page.locator("#step-panel").get_attribute("data-node") == str(step.node)
    summary = page.locator(f'#step-panel [data-role=downstream][data-input="{w1}"]')
    assert summary.get_attribute("data-shape") == "4×5"
    assert not shows(summary.inner_text(), step.inputs[1][2])  # a summary: not every value
    values = summary.locator("xpath=following-sibling::details[1]")
    assert not values.locator("pre").is_visible()
    values.locator("summary").click()
    assert values.locator("pre").is_visible()
    assert shows(values.locator("pre").inner_text(), step.inputs[1][2])
    report.assert_clean()


@pytest.mark.parametrize("graphviz", [True, False])
def test_hover_a_wire_and_a_node(one_page: Report, reports, graphviz: bool) -> None:
    """A wire's tooltip: the value it carries, the gradient it carries back, and the local
    gradient of the gate it feeds, as a formula and its value; a node's: its value, its
    gradient and its inputs' local gradients. In Graphviz's picture and in the own layout."""
    from bpcli.present.explain import local_formula

    html, doc = reports("grad", str(SAMPLES / "neuron.bp"), graphviz=graphviz)
    nodes = {n["id"]: n for n in doc["nodes"]}
    graph = neuron_graph()
    end = nodes[graph.output.id]  # f = 1/(1 + exp(…)), fed by 1 + exp(…) and nothing else
    source = end["inputs"][1]
    report = one_page.open(html)
    tooltip = report.page.locator("#tooltip")
    assert tooltip.count() == 1 and tooltip.is_hidden()

    text = report.hover_text(f'[data-edge="{source}-{end["id"]}"]')
    formula = local_formula(graph, graph.nodes[end["id"]], 1)
    assert formula == "-1/(1 + exp(…))^2"
    assert formula in text, text
    assert shows(text, nodes[source]["value"]), text
    assert shows(text, end["downstream"][1]), text

    report.page.mouse.move(0, 0)
    assert tooltip.is_hidden()
    gate = next(n for n in doc["nodes"] if n["label"] == "w1*x1")
    text = report.hover_text(f'[data-node="{gate["id"]}"]')
    assert shows(text, gate["value"]) and shows(text, gate["upstream"]), text
    for i in range(2):  # ∂/∂w1 = x1 = -2, ∂/∂x1 = w1 = -3
        assert local_formula(graph, graph.nodes[gate["id"]], i) in text, text
        assert shows(text, gate["local"][i]), text
    report.assert_clean()


@pytest.mark.parametrize("graphviz", [True, False])
def test_the_keyboard_reaches_every_node(one_page: Report, reports, graphviz: bool) -> None:
    """Without a mouse: Tab goes from node to node of the circuit, each showing its tooltip,
    and Enter on a gate goes to its step."""
    html, doc = reports("grad", str(SAMPLES / "neuron.bp"), graphviz=graphviz)
    expected = backward_steps(doc)
    report = one_page.open(html)
    page = report.page
    focused_js = "() => document.activeElement && document.activeElement.getAttribute('data-node')"
    reached: list[str] = []
    for _ in range(len(doc["nodes"]) + 10):  # the stepper's buttons first, then the circuit
        page.keyboard.press("Tab")
        node = page.evaluate(focused_js)
        if node in reached:  # round again
            break
        if node is not None:
            reached.append(node)
            tip = page.locator("#tooltip")
            assert tip.is_visible(), node
            value = next(n["value"] for n in doc["nodes"] if str(n["id"]) == node)
            assert shows(tip.inner_text(), value), (node, tip.inner_text())
    assert sorted(map(int, reached)) == sorted(n["id"] for n in doc["nodes"])

    middle = len(expected) // 2
    gate = page.locator(f'#circuit [data-node="{expected[middle].node}"]')
    gate.focus()
    page.keyboard.press("Enter")
    assert_at(report, middle, expected[middle])
    page.keyboard.press("ArrowRight")  # the arrow keys step from there
    assert_at(report, middle + 1, expected[middle + 1])
    report.assert_clean()


@pytest.mark.parametrize("sample", ["neuron", "matrix"])
def test_without_javascript_every_step_is_shown(open_report, reports, sample: str) -> None:
    html, doc = reports("grad", str(SAMPLES / f"{sample}.bp"))
    report = open_report(html, java_script_enabled=False)
    for control in ("#step-first", "#step-prev", "#step-next", "#step-last"):
        assert not report.page.locator(control).is_visible(), control
    assert_every_step_shown(report, doc)
    report.assert_clean()


def test_printed_every_step_is_shown(open_report, reports) -> None:
    html, doc = reports("grad", str(SAMPLES / "neuron.bp"))
    report = open_report(html)
    report.page.keyboard.press("ArrowRight")
    report.page.emulate_media(media="print")
    assert_every_step_shown(report, doc)
    for control in ("#step-first", "#step-prev", "#step-next", "#step-last"):
        assert not report.page.locator(control).is_visible(), control
    pdf = report.page.pdf()
    assert pdf.startswith(b"%PDF-") and b"/Type /Page" in pdf
    report.assert_clean()


def every_sample() -> list[tuple[str, list[str]]]:
    """(name, the arguments of `bpcli grad`) for each sample: samples/*.bp, and each command
    of samples/cs231n/README.md's table, its paths made absolute and its random draws seeded
    (the report and the JSON are two runs)."""
    runs = [(path.stem, [str(path)]) for path in sorted(SAMPLES.glob("*.bp"))]
    readme = (SAMPLES / "cs231n" / "README.md").read_text(encoding="utf-8")
    for name, command in re.findall(r"^\| \[(\w+)\]\(\1\.bp\) \| `bpcli grad ([^`]+)`", readme, re.M):
        command = command.replace("$d", "samples/cs231n/data").replace("samples/", f"{SAMPLES}/")
        runs.append((f"cs231n/{name}", [*shlex.split(command), "--seed", "1"]))
    return runs


# The largest graphs (79 to 261 nodes, pasted naive loops): with the long runs, -m slow.
LARGE = {
    "conv_forward_naive",
    "lstm_forward",
    "max_pool_forward_naive",
    "softmax_loss_naive",
    "svm_loss_naive",
}
SAMPLE_RUNS = [
    pytest.param(name, args, id=name, marks=[pytest.mark.slow] if name.split("/")[-1] in LARGE else [])
    for name, args in every_sample()
]


@pytest.mark.parametrize(("name", "args"), SAMPLE_RUNS)
def test_every_sample_opens_offline(one_page: Report, reports, name: str, args: list[str]) -> None:
    """Each sample's report loads with nothing from the network and no error, lists every
    step of its backward pass, and steps from the output's gate to the last."""
    html, doc = reports("grad", *args)
    expected = backward_steps(doc)
    report = one_page.open(html)
    assert [step["node"] for step in report.data()["steps"]] == [step.node for step in expected]
    assert report.page.locator("#steps [data-step]").count() == len(expected)
    report.page.keyboard.press("End")
    assert report.state()["nodes"] == [str(expected[-1].node)]
    report.page.keyboard.press("Home")
    assert report.state()["nodes"] == [str(expected[0].node)]
    report.assert_clean()


# The stroke colour (r, g, b) of the line of each answered wire, by answer.
WIRE_COLOURS_JS = """() => {
  const colours = { right: [], wrong: [] };
  for (const wire of document.querySelectorAll('#circuit [data-edge][data-answer]')) {
    const line = wire.matches('path') ? wire : wire.querySelector('path:not(.hit)');
    const rgb = line && getComputedStyle(line).stroke.match(/\\d+/g);
    if (rgb) colours[wire.dataset.answer].push(rgb.slice(0, 3).map(Number));
  }
  return colours;
}"""
CHECK_ANSWERS = ["-e", "dw0=-0.20", "-e", "dx1=0.59", "-e", "dw2=0.2", "-e", "dx0=0.3"]


def test_check_report_marks_answers(one_page: Report, reports) -> None:
    """Right and wrong answers marked on the circuit, the first wrong step marked, and the
    diagnosis of a wrong one on hover."""
    html, doc = reports("check", str(SAMPLES / "neuron.bp"), *CHECK_ANSWERS)
    nodes = reports("grad", str(SAMPLES / "neuron.bp"))[1]["nodes"]
    named = {n["name"]: n["id"] for n in nodes if n["name"]}
    want = {named[r["means"].split("∂")[-1]]: "right" if r["ok"] else "wrong" for r in doc["results"]}
    assert sorted(want.values()) == ["right", "right", "wrong", "wrong"]
    report = one_page.open(html)
    marks = report.page.eval_on_selector_all(
        "[data-node][data-answer]", "es => es.map(e => [e.dataset.node, e.dataset.answer])"
    )
    assert {int(node): answer for node, answer in marks} == want
    # On screen: a right answer's wires green, a wrong one's red (vermillion).
    colours = report.page.evaluate(WIRE_COLOURS_JS)
    assert colours["right"] and all(g > r for r, g, _ in colours["right"]), colours
    assert colours["wrong"] and all(r > g for r, g, _ in colours["wrong"]), colours
    first = next(r for r in doc["results"] if r["diagnosis"] and r["diagnosis"]["first"])
    assert first["name"] == "dx1"
    flagged = report.page.eval_on_selector_all(
        "[data-first-wrong]", "es => es.map(e => e.dataset.node ?? e.dataset.from)"
    )
    assert set(flagged) == {str(named["x1"])}  # the node x1, and its wires: a gradient
    # a person points at the input's name (the centre of its box may be no part of it)
    text = report.hover_text(f'[data-node="{named["x1"]}"][data-first-wrong] text >> text=x1')
    assert unfolded(first["diagnosis"]["message"]) in unfolded(text)  # "sign error: …"
    report.assert_clean()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_narration_speaks_the_language(one_page: Report, reports, lang: str) -> None:
    """The panel narrates each gate in the language asked for: the fan-out's add gate
    distributes, its mul gate swaps."""
    from bpcli.texts import Translator

    tr = Translator(lang)
    html, _ = reports("grad", str(SAMPLES / "fanout.bp"), "--lang", lang)
    report = one_page.open(html)
    page = report.page
    panel = page.locator("#step-panel")
    page.keyboard.press("Home")
    assert unfolded(tr("steps.gate.distributor")) in unfolded(panel.inner_text())
    page.keyboard.press("ArrowRight")
    assert unfolded(tr("steps.gate.swapper")) in unfolded(panel.inner_text())
    report.assert_clean()


# ---------------------------------------------------------------------------------------------
# Without a browser


def test_the_module_imports_without_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without Playwright this file still imports, and its tests skip with the reason (fail,
    when BPCLI_BROWSER=required)."""
    import importlib.util
    import sys

    monkeypatch.setitem(sys.modules, "playwright", None)
    monkeypatch.setitem(sys.modules, "playwright.sync_api", None)
    spec = importlib.util.spec_from_file_location("browser_copy", __file__)
    assert spec is not None and spec.loader is not None
    copy = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "browser_copy", copy)
    spec.loader.exec_module(copy)
    monkeypatch.delenv("BPCLI_BROWSER", raising=False)
    with ExitStack() as stack, pytest.raises(pytest.skip.Exception, match="Playwright is not installed"):
        copy.start(stack)
    monkeypatch.setenv("BPCLI_BROWSER", "required")
    with ExitStack() as stack, pytest.raises(pytest.fail.Exception, match="BPCLI_BROWSER=required"):
        copy.start(stack)


def test_without_a_browser_the_tests_skip(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import sys
    import types

    fake = types.ModuleType("playwright.sync_api")
    fake.Error = Exception  # type: ignore[attr-defined]
    fake.sync_playwright = lambda: pytest.fail("no browser, so Playwright is not started")  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "playwright.sync_api", fake)
    monkeypatch.delenv("BPCLI_CHROMIUM", raising=False)
    monkeypatch.delenv("BPCLI_BROWSER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with ExitStack() as stack, pytest.raises(pytest.skip.Exception, match="no Chromium on the PATH"):
        start(stack)
