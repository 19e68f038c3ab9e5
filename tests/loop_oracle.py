"""The oracle for programs with loops, functions, conditions and classes: the same text,
run by Python over HIPS autograd's numpy, as a function of the chosen inputs.

Python runs the text as it is, with three mechanical rewrites that autograd needs and that
do not change what numpy computes (made on the syntax tree, so line numbers stay):

- a write into an array (`out[n, f, i, j] = v`, `dW[:, j] += X[i]`, `z[mask] = …`) becomes
  `out = __assign__(out, np.s_[n, f, i, j], v)`: a new array, built by gathering, because
  autograd cannot assign in place (a write into a dict or a list stays a write);
- `a.dot(b)` becomes `np.dot(a, b)` and `a.copy()` `__copy__(a)`, because autograd's traced
  arrays have no such methods (and a plain array's `.dot` of a traced one would fail);
- a top-level `NAME = expr` for a chosen input NAME becomes `NAME = __input__('NAME', expr)`,
  which hands autograd's traced value in, so a program's own inputs (`x = np.sin(…)`) can be
  differentiated.

`print` writes nothing. Nothing here knows how bpcli reads a program.
"""

from __future__ import annotations

import ast
import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd import value_and_grad
from autograd.numpy.numpy_boxes import ArrayBox
from numpy_programs import assign

# --- rewriting the text for autograd ------------------------------------------------------------


def _name(text: str, store: bool = False) -> ast.Name:
    return ast.Name(id=text, ctx=ast.Store() if store else ast.Load())


def _load(node: ast.expr) -> ast.expr:
    """The same target, read."""
    if isinstance(node, ast.Name):
        return _name(node.id)
    if isinstance(node, ast.Attribute):
        return ast.Attribute(value=node.value, attr=node.attr, ctx=ast.Load())
    if isinstance(node, ast.Subscript):
        return ast.Subscript(value=node.value, slice=node.slice, ctx=ast.Load())
    raise NotImplementedError(f"the oracle cannot write into {ast.dump(node)}")


def _store(node: ast.expr) -> ast.expr:
    if isinstance(node, ast.Name):
        return _name(node.id, store=True)
    if isinstance(node, ast.Attribute):
        return ast.Attribute(value=node.value, attr=node.attr, ctx=ast.Store())
    if isinstance(node, ast.Subscript):
        return ast.Subscript(value=node.value, slice=node.slice, ctx=ast.Store())
    raise NotImplementedError(f"the oracle cannot write into {ast.dump(node)}")


class _ForAutograd(ast.NodeTransformer):
    def __init__(self, inputs: frozenset[str]) -> None:
        self.inputs = inputs
        self.depth = 0  # inside a def or a class: not a top-level assignment

    def _functional(self, target: ast.Subscript, value: ast.expr, like: ast.AST) -> ast.stmt:
        """`c[i] = value` as `c = __assign__(c, np.s_[i], value)`, outwards through
        nested subscripts (`a[0][1] = v` writes a[0] first)."""
        index = ast.Subscript(value=_name("__S__"), slice=target.slice, ctx=ast.Load())
        call = ast.Call(func=_name("__assign__"), args=[_load(target.value), index, value], keywords=[])
        statement: ast.stmt = ast.Assign(targets=[_store(target.value)], value=call)
        ast.copy_location(statement, like)
        if isinstance(target.value, ast.Subscript):
            return self._functional(target.value, call, like)
        return statement

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        if len(node.targets) == 1 and isinstance(node.targets[0], ast.Subscript):
            return self._functional(node.targets[0], node.value, node)
        if (
            self.depth == 0
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and node.targets[0].id in self.inputs
        ):
            name = node.targets[0].id
            node.value = ast.Call(func=_name("__input__"), args=[ast.Constant(name), node.value], keywords=[])
        for target in node.targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Subscript) and isinstance(sub.ctx, ast.Store):
                    raise NotImplementedError("the oracle cannot unpack into a subscript")
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.target, ast.Subscript):
            value = ast.BinOp(left=_load(node.target), op=node.op, right=node.value)
            return self._functional(node.target, value, node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        func = node.func
        on_np = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "np"
        if isinstance(func, ast.Attribute) and not on_np:
            if func.attr == "dot" and len(node.args) == 1 and not node.keywords:
                return ast.Call(
                    func=ast.Attribute(value=_name("np"), attr="dot", ctx=ast.Load()),
                    args=[func.value, node.args[0]],
                    keywords=[],
                )
            if func.attr == "copy" and not node.args and not node.keywords:
                return ast.Call(func=_name("__copy__"), args=[func.value], keywords=[])
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        return ast.Pass()  # `import numpy as np`: np is autograd's numpy here

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return ast.Pass()


@functools.lru_cache(maxsize=256)
def for_autograd(text: str, inputs: frozenset[str] = frozenset()) -> Any:
    """The program's code object, rewritten for autograd (see the module's docstring)."""
    tree = _ForAutograd(inputs).visit(ast.parse(text))
    ast.fix_missing_locations(tree)
    return compile(tree, "<program>", "exec")


# --- running it -------------------------------------------------------------------------------------


def _assign(container: Any, index: Any, value: Any) -> Any:
    if isinstance(container, (dict, list)):
        container[index] = value
        return container
    if not isinstance(container, ArrayBox) and not isinstance(value, ArrayBox):
        written = np.array(container, copy=True)
        written[index] = value
        return written
    return assign(container, index, value)


def _copy(value: Any) -> Any:
    return value if isinstance(value, ArrayBox) else value.copy()


def run_python(
    text: str,
    traced: Mapping[str, Any] | None = None,
    bound: Mapping[str, Any] | None = None,
    in_file: frozenset[str] = frozenset(),
    numpy: Any = anp,
) -> dict[str, Any]:
    """Run the program; `bound` names are set before it starts (bpcli's bindings), `traced`
    replace the values of its own top-level inputs (`in_file`) where it binds them. Returns
    its namespace, with the values its own inputs were first given under "__inputs__"."""
    traced = dict(traced or {})
    first: dict[str, Any] = {}

    def input_value(name: str, value: Any) -> Any:
        if name in first:
            raise AssertionError(f"input {name} is bound twice at top level")
        first[name] = value
        return traced.get(name, value)

    namespace: dict[str, Any] = {
        "__name__": "program",
        "np": numpy,
        "print": lambda *args, **kwargs: None,
        "__assign__": _assign,
        "__copy__": _copy,
        "__input__": input_value,
        "__S__": np.s_,
        "__inputs__": first,
    }
    # a copy of each array: the program may write into it (x += …), and it is the caller's
    namespace.update(
        {n: np.array(v, copy=True) if isinstance(v, np.ndarray) else v for n, v in (bound or {}).items()}
    )
    exec(for_autograd(text, in_file), namespace)
    return namespace


def oracle(
    text: str,
    output: str,
    inputs: Mapping[str, Any],
    in_file: frozenset[str] = frozenset(),
    data: Mapping[str, Any] | None = None,
) -> Callable[[dict[str, Any]], Any]:
    """f as a function of a dict of the float inputs: the bound ones (`inputs` not in
    `in_file`) and the program's own (`in_file`), for autograd's value_and_grad."""

    def function(values: dict[str, Any]) -> Any:
        bound = {n: v for n, v in values.items() if n not in in_file}
        traced = {n: v for n, v in values.items() if n in in_file}
        return run_python(text, traced, {**(data or {}), **bound}, in_file)[output]

    return function


def own_inputs(
    text: str, names: frozenset[str], bound: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """The values a program gives its own inputs (plain numpy)."""
    if not names:
        return {}
    namespace = run_python(text, bound=bound, in_file=names, numpy=np)
    return {n: np.asarray(v, dtype=float) for n, v in namespace["__inputs__"].items()}


def expected(
    text: str,
    output: str,
    bound: Mapping[str, Any] | None = None,
    in_file: frozenset[str] = frozenset(),
    data: Mapping[str, Any] | None = None,
) -> tuple[float, dict[str, Any]]:
    """f and ∂f/∂input for every float input, by autograd."""
    inputs = {**(bound or {}), **own_inputs(text, in_file, {**(data or {}), **(bound or {})})}
    missing = in_file - set(inputs)
    assert not missing, f"the program does not bind {sorted(missing)} at top level"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # autograd: "Output seems independent of input"
        value, grads = value_and_grad(oracle(text, output, inputs, in_file, data))(inputs)
    return float(value), grads
