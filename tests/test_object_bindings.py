"""JSON-object bindings: conv_param='{"stride": 2, "pad": 1}' becomes a dict of parameters."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bpcli.errors import BindingError
from bpcli.language import parse as parse_module
from bpcli.language.bindings import parse_bindings, split_bindings
from bpcli.language.objects import MAX_DEPTH
from bpcli.language.parse import parse

SETTINGS = (
    '{"stride": 2, "pad": 1, "eps": 1e-5, "mode": "train", "w": [[1, 2], [3, 4]], "on": true, "p": null}'
)


def test_an_object_binding_is_a_dict_of_parameters():
    (value,) = parse_bindings([f"conv_param={SETTINGS}"]).values()
    assert value.keys() == {"stride", "pad", "eps", "mode", "w", "on", "p"}
    assert type(value["stride"]) is int and value["stride"] == 2  # ints stay ints
    assert type(value["eps"]) is float and value["eps"] == 1e-5
    assert value["mode"] == "train" and value["on"] is True and value["p"] is None
    assert value["w"].dtype == np.float64
    np.testing.assert_array_equal(value["w"], [[1, 2], [3, 4]])


def test_nested_objects_are_dicts():
    (value,) = parse_bindings(['bn={"gamma": {"init": 1}, "a": {"b": {"c": [0.5]}}}']).values()
    assert value["gamma"] == {"init": 1}
    np.testing.assert_array_equal(value["a"]["b"]["c"], [0.5])


def test_an_object_is_one_binding_in_an_at_text():
    assert split_bindings('p={"stride": 2, "pad": 1} x=1') == ['p={"stride": 2, "pad": 1}', "x=1"]
    assert split_bindings('p={"a b": "c d"} x=1') == ['p={"a b": "c d"}', "x=1"]


def test_parse_takes_a_dict_binding_as_it_is_given():
    """The builder gets the dict (the builder's use of it comes with the language's dicts)."""
    graph = parse("x * 2", {"x": 1.0, "p": {"stride": 2, "w": [1, 2], "q": {"r": (1.5, 2)}}})
    given = parse_module._builder.bindings["p"]
    assert given["stride"] == 2 and type(given["stride"]) is int
    np.testing.assert_array_equal(given["w"], [1.0, 2.0])
    assert given["w"].dtype == np.float64
    np.testing.assert_array_equal(given["q"]["r"], [1.5, 2.0])
    assert graph.warnings == ("the binding p=… is not used by the program",)


def test_a_program_reads_a_dict_binding(bpcli):
    result = bpcli(
        "grad",
        "x * p['a'] + p['n'] + p['w'][1]",
        "x=2",
        'p={"a": 1.5, "n": 3, "w": [5, 7]}',
        "--format",
        "json",
    )
    assert result.code == 0 and result.err == ""
    document = json.loads(result.out)
    assert document["value"] == 2 * 1.5 + 3 + 7
    assert document["grads"]["x"] == 1.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"stride": 2,}', "not a JSON object (Expecting property name enclosed in double quotes)"),
        ('{"stride": 2 "pad": 1}', "not a JSON object (Expecting ',' delimiter)"),
        ("{'stride': 2}", "not a JSON object"),
        ('{"s": NaN}', "NaN is not a finite number"),
        ('{"s": 1e400}', "at ['s']: the value must be finite"),
        ('{"s": [1, "a"]}', "at ['s']: not a numeric array (it holds the string 'a')"),
        ('{"s": [[1, 2], [3]]}', "at ['s']: not a rectangular array of numbers"),
        ('{"s": []}', "at ['s']: the array has no elements"),
        ('{"a": {"b": [true]}}', "at ['a']['b']: not a numeric array (it holds the value true)"),
        ('{"a":' * 30 + "1" + "}" * 30, "nested more than"),
        ('{"a":' + "[" * 40 + "1" + "]" * 40 + "}", "at ['a']: the array is too big: it would have 40 dim"),
        ('{"a":' + "[" * 50 + "1" + "]" * 50 + "}", "nested more than"),
        ('{"a":' + "[" * 100_000, "nested too deeply"),
        ('{"a":' * (MAX_DEPTH + 1) + "1" + "}" * (MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} objects"),
    ],
)
def test_bad_objects_are_errors(text, message):
    with pytest.raises(BindingError) as caught:
        parse_bindings([f"p={text}"])
    assert caught.value.message.startswith("in the binding p=")
    assert message in caught.value.message


def test_bad_json_on_the_command_line_points_at_the_place(bpcli):
    result = bpcli("grad", "x*2", "x=1", 'p={"stride": 2 "pad": 1}')
    assert result.code == 2 and result.out == ""
    assert result.err == (
        'error: in the binding p={"stride": 2 "pad": 1}: not a JSON object (Expecting \',\' delimiter)\n'
        "  line 1, column 14:\n"
        '    {"stride": 2 "pad": 1}\n'
        "                 ^\n"
        'a JSON object is written {"stride": 2, "pad": 1}: keys in double quotes\n'
    )


def test_the_command_line_takes_an_object(bpcli):
    result = bpcli("grad", "x*2", "x=1", f"conv_param={SETTINGS}", "--format", "json")
    assert result.code == 0
    assert result.err == "warning: the binding conv_param=… is not used by the program\n"


def test_an_object_is_not_an_answer(bpcli):
    result = bpcli("check", "x*2", "x=1", "--expect", 'x={"a": 1}')
    assert result.code == 2 and "an answer is a number or an array, not an object" in result.err


def test_batch_records_take_objects(bpcli, tmp_path):
    path = tmp_path / "p.jsonl"
    lines = [
        {"program": "x*2", "bindings": {"x": 1, "conv_param": {"stride": 2, "pad": 1}}},
        {"program": "x*2", "bindings": {"x": 1, "conv_param": '{"stride": 2}'}},
        {"program": "x*2", "bindings": {"x": 1, "conv_param": {"w": ["a"]}}},
        {"program": "x*p['a']", "bindings": {"x": 1, "p": {"a": 3}}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = bpcli("batch", str(path))
    out = [json.loads(line) for line in result.out.splitlines()]
    assert result.code == 1 and len(out) == 4
    assert out[0]["value"] == 2.0 and out[0]["warnings"] == [
        "the binding conv_param=… is not used by the program"
    ]
    assert out[1]["value"] == 2.0
    assert (
        out[2]["error"] == "the binding conv_param, at ['w']: not a numeric array (it holds the string 'a')"
    )
    assert out[3]["value"] == 3.0


def test_batch_text_lines_take_objects(bpcli):
    result = bpcli(
        "batch", "-", "--program", "x*2", input='x=1 p={"stride": 2, "pad": 1}\nx=2 p={"stride": 3}\n'
    )
    assert result.code == 0
    assert [json.loads(line)["value"] for line in result.out.splitlines()] == [2.0, 4.0]
