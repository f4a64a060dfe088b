"""The modules of ``hvg`` import each other without a cycle.

A cycle works in Python only as long as the names are looked up late enough
(a lazy import inside a function, a module half-initialised): it hides which
module builds on which, and a moved import breaks it. The graph is read from
the source with ``ast``: every ``import`` and ``from ... import`` statement,
at module level or inside a function, relative ones resolved. An edge goes to
the module named (``from .streaming import x``: ``streaming``; ``from . import
streaming``: ``streaming`` too), not to the packages above it, whose
``__init__`` Python runs first but which a module does not depend on.
"""
import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

import hvg

ROOT = Path(hvg.__file__).resolve().parent


def module_names(root: Path) -> Dict[str, Path]:
    """``{'hvg.models.generators.streaming': path, 'hvg.models': .../__init__.py}``."""
    names = {}
    for path in sorted(root.rglob('*.py')):
        parts = path.relative_to(root.parent).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        names['.'.join(parts)] = path
    return names


def import_graph(root: Path = ROOT) -> Dict[str, Set[str]]:
    """``{module: modules of the package it imports}``, lazy imports included."""
    modules = module_names(root)
    package_name = root.name

    def known(name: str) -> Optional[str]:
        """The longest prefix of ``name`` that is a module of the package."""
        parts = name.split('.')
        for end in range(len(parts), 0, -1):
            candidate = '.'.join(parts[:end])
            if candidate in modules:
                return candidate
        return None

    graph: Dict[str, Set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == '__init__.py'
        package = name if is_package else name.rpartition('.')[0]
        edges: Set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base_parts = package.split('.')
                    base = '.'.join(base_parts[:len(base_parts) - (node.level - 1)])
                    source = f'{base}.{node.module}' if node.module else base
                else:
                    source = node.module
                # `from pkg import submodule` imports the submodule
                targets = [f'{source}.{alias.name}'
                           if f'{source}.{alias.name}' in modules else source
                           for alias in node.names]
            else:
                continue
            for target in targets:
                if target.split('.')[0] != package_name:
                    continue
                resolved = known(target)
                if resolved is not None and resolved != name:
                    edges.add(resolved)
        graph[name] = edges
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> List[str]:
    """One cycle ``[a, b, ..., a]`` of ``graph``, or ``[]`` if it is acyclic."""
    state: Dict[str, int] = {}  # 1: on the current path, 2: finished
    path: List[str] = []

    def visit(node: str) -> List[str]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start)
            if cycle:
                return cycle
    return []


def test_the_graph_sees_relative_lazy_and_package_imports(tmp_path):
    pkg = tmp_path / 'pkg'
    (pkg / 'sub').mkdir(parents=True)
    (pkg / '__init__.py').write_text('from .sub import a\n')
    (pkg / 'sub' / '__init__.py').write_text('from . import a\nfrom .b import thing\n')
    (pkg / 'sub' / 'a.py').write_text('import os\nfrom pkg.sub.b import thing\n')
    (pkg / 'sub' / 'b.py').write_text('def thing():\n    from .a import x  # lazy\n')
    graph = import_graph(pkg)
    assert graph == {'pkg': {'pkg.sub.a'}, 'pkg.sub': {'pkg.sub.a', 'pkg.sub.b'},
                     'pkg.sub.a': {'pkg.sub.b'}, 'pkg.sub.b': {'pkg.sub.a'}}
    assert find_cycle(graph) in (['pkg.sub.a', 'pkg.sub.b', 'pkg.sub.a'],
                                 ['pkg.sub.b', 'pkg.sub.a', 'pkg.sub.b'])


def test_hvg_has_no_import_cycle():
    graph = import_graph()
    assert len(graph) > 50 and sum(map(len, graph.values())) > 100, 'the package was read'
    # edges the design relies on: statistics build on streaming, not back
    generators = 'hvg.models.generators'
    assert f'{generators}.streaming' in graph[f'{generators}.length_statistics']
    assert not graph[f'{generators}.streaming'] & {f'{generators}.length_statistics',
                                                   generators}
    # a lazy import inside a function is an edge too
    assert 'hvg.registry' in graph['hvg.apis.real_clips']
    cycle = find_cycle(graph)
    assert not cycle, 'import cycle: ' + ' -> '.join(cycle)
