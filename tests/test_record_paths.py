"""The batch's shortcuts for the common record write what the general path writes.

A plain JSON Lines record (`{"program": …, "bindings": {…}}`) is read in one call
(`bpcli.batch.solve._plain_problem`), and a result of finite floats is written without a
document (`bpcli.present.records._scalar_record`). Random problems, errors, odd numbers and
ids of every JSON type go through a batch with the shortcuts and without them: the records
are the same bytes, and the problems read the same."""

from __future__ import annotations

import json
import random

import pytest

from bpcli.batch import solve
from bpcli.batch.lines import read_lines
from bpcli.present import records


class Raw(str):
    """JSON text written as it is: a number JSON cannot hold as written, NaN, Infinity."""


def dumped(value: object) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {dumped(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dumped(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


NAMES = ["x0", "x1", "x2", "x3"]
IDS = [
    "a",
    'é "quoted" \\ back\tslash \x01',
    "",
    7,
    -(10**30),
    0,
    1.5,
    -0.0,
    Raw("1e400"),
    Raw("1e-400"),
    Raw("NaN"),
    True,
    False,
    None,
    [1, "two", None, [3.25]],
    {"k": [1, 2], "n": None},
    {},
    [],
]
NUMBERS = [
    1.5,
    -2.0,
    3,
    -4,
    0,
    0.0,
    -0.0,
    1e300,
    -1e-300,
    2**60,
    Raw("1e-400"),
    Raw("5e-324"),
    Raw("1.234567e-320"),
    Raw("1e400"),
    Raw("NaN"),
    Raw("-Infinity"),
    Raw(str(10**400)),
    Raw("2.50"),
    Raw("1E2"),
    "2.5",
    "-x",
    "randn()",
    [1.0, 2.0],
    [[1, 2], [3, 4]],
    True,
    None,
    {"stride": 2},
]


def expression(rng: random.Random, depth: int = 0) -> str:
    if depth > 3 or rng.random() < 0.3:
        return rng.choice([*NAMES, "2", "0.5", "1e300", "1e-300", "3", "0"])
    a, b = expression(rng, depth + 1), expression(rng, depth + 1)
    form = rng.choice(["{a} + {b}", "{a} - {b}", "{a}*{b}", "{a}/{b}", "({a})**2", "exp({a})", "log({a})"])
    form += rng.choice(["", "", " + relu({b} - {b})", " + sqrt({a})"])
    return form.format(a=a, b=b)


PROGRAMS = [
    "f = x0*x1 + x1",
    "x0*x1 + 2",  # the output as written
    "h = log(x0 - 100); f = x1*2",  # h off f's path and not computable: null, and a warning
    "h = x0*x1; f = h + h*x0",
    "v = [1, 2]; f = sum(v*x0)",  # an array: the general path
    "f = x0 / (x1 - x1)",
    "f = x0 +* 3",
    "λ = 2; f = λ*x0",
    "f = relu(x0 - x0) + x1",  # a kink
    "x0 = 2; f = x0 * 3",
    "f = 1e308 * x0 * 10",
    "y = x0\nf = y*y # a comment",
]


def program(rng: random.Random) -> object:
    roll = rng.random()
    if roll < 0.4:
        text = expression(rng)
        return f"h = {expression(rng)}; f = {text}" if rng.random() < 0.3 else f"f = {text}"
    if roll < 0.95:
        return rng.choice(PROGRAMS)
    return rng.choice([3, None, ["f = x0"]])


def record(rng: random.Random) -> str:
    doc: dict[str, object] = {}
    if rng.random() < 0.97:
        doc["program"] = program(rng)
    if rng.random() < 0.9:
        names = rng.sample(NAMES, rng.randint(0, len(NAMES)))
        plain = rng.random() < 0.6
        doc["bindings"] = {
            n: round(rng.uniform(-3, 3), rng.choice([0, 2, 17])) if plain else rng.choice(NUMBERS)
            for n in names
        }
        if rng.random() < 0.03:
            doc["bindings"] = rng.choice([[1], "x0=1", None, 2])
    if rng.random() < 0.5:
        doc["id"] = rng.choice(IDS)
    if rng.random() < 0.05:
        key = rng.choice(["output", "upstream", "other", "id"])
        doc[key] = rng.choice(["h", "f", 2.0, [1.0], {"a": 1}])
    keys = list(doc)
    rng.shuffle(keys)
    text = dumped({k: doc[k] for k in keys})
    if rng.random() < 0.02:
        text = rng.choice([text[:-1], text + " 1", text + "}", "[" + text + "]", "{" * 2000 + "}" * 2000])
    return text


def lines(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    made = [record(rng) for _ in range(count)]
    made += rng.sample(made, count // 5)  # seen again: the kept graphs and the compiled path
    made.append("x0 = 2; f = x0*x0")  # a line of text
    return made


def solved(texts: list[str], options: solve.Options) -> list[tuple[str, int]]:
    raw = [(t + "\n").encode("utf-8") for t in texts]
    solver = solve.Solver(options)
    return [solver.solve_line(line) for line in read_lines([("in.jsonl", raw)])]


OPTIONS = {
    "default": solve.Options(seed=3),
    "nodes": solve.Options(nodes=True, seed=3),
    "bind": solve.Options(common={"x3": 0.25}, seed=3),
    "csv": solve.Options(output_format="csv", seed=3),
    "table": solve.Options(output_format="table", seed=3),
}


@pytest.mark.parametrize("name", sorted(OPTIONS))
@pytest.mark.parametrize("seed", [1, 2])
def test_the_shortcuts_write_the_general_paths_records(monkeypatch, name, seed):
    texts = lines(seed, 150 if name == "table" else 400)
    options = OPTIONS[name]
    fast = solved(texts, options)
    monkeypatch.setattr(solve, "_plain_problem", lambda source, line, text: None)
    monkeypatch.setattr(records, "_scalar_record", lambda base, run: None)
    general = solved(texts, options)
    assert fast == general
    assert any(status == 0 for _, status in fast) and any(status != 0 for _, status in fast)


def test_the_plain_reading_gives_the_general_problem(monkeypatch):
    texts = lines(3, 1500)
    read = [solve._plain_problem("in", 1, t) for t in texts]
    assert sum(p is not None for p in read) > 200  # the shortcut is taken, and not always
    assert sum(p is None for p in read) > 200
    monkeypatch.setattr(solve, "_plain_problem", lambda source, line, text: None)
    for text, plain in zip(texts, read, strict=True):
        if plain is not None:
            assert plain == solve._json_problem("in", 1, text, False), text


def test_the_scalar_record_is_the_documents_json(monkeypatch):
    """Numbers at the float range's ends, an id of each kind and a source name to escape."""
    from bpcli.core.engine import run
    from bpcli.language.parse import parse

    for text in ["f = x0*1e300*1e8", "f = x0*1e-300*1e-20 + x1", "a = x0; b = a*0; f = b + x1", *PROGRAMS]:
        for bindings in [{"x0": 1.7976931348623157e308, "x1": -5e-324}, {"x0": 0.1, "x1": 3.0}]:
            try:
                graph = parse(text, bindings)
                result = run(graph)
            except Exception:
                continue
            for ident in [None, *IDS]:
                if isinstance(ident, Raw):
                    continue
                base: records.RecordBase = {"source": 'dir/"ünï\u2028".jsonl', "line": 12}
                if ident is not None:
                    base["id"] = ident
                fast = records._scalar_record(base, result)
                with monkeypatch.context() as m:
                    m.setattr(records, "_scalar_record", lambda base, run: None)
                    general = records.result_text(base, result, "jsonl", False, 4, False)
                assert fast is None or fast == general, text
