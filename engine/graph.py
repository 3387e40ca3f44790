"""Build order: models sorted so that each comes after every model it ref()s."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from .errors import CycleError


def topo_order(deps: Mapping[str, Sequence[str]], label: Callable[[str], str] = str) -> list[str]:
    """Models in dependency order, ties broken by name, so the order is the same on every run.

    >>> topo_order({"b": ["a"], "a": [], "c": ["b", "a"]})
    ['a', 'b', 'c']
    >>> topo_order({"a": ["b"], "b": ["a"]})
    Traceback (most recent call last):
    ...
    engine.errors.CycleError: Models depend on each other in a loop: a -> b -> a; remove one of these ref()s
    """
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "visiting":
            loop = path[path.index(name):] + [name]
            raise CycleError(f"Models depend on each other in a loop: {' -> '.join(map(label, loop))}; "
                             f"remove one of these ref()s")
        state[name] = "visiting"
        for dep in sorted(deps[name]):
            visit(dep, path + [name])
        state[name] = "done"
        order.append(name)

    for name in sorted(deps):
        visit(name, [])
    return order


def upstream(deps: Mapping[str, Sequence[str]], names: Iterable[str]) -> set[str]:
    """The named models and every model they read, directly or not.

    >>> sorted(upstream({"a": [], "b": ["a"], "c": ["b"], "d": ["a"]}, ["c"]))
    ['a', 'b', 'c']
    """
    found: set[str] = set()
    waiting = list(names)
    while waiting:
        name = waiting.pop()
        if name not in found:
            found.add(name)
            waiting += deps[name]
    return found
