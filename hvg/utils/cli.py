"""Small helpers the command-line tools share: one parser whose ``--help``
shows every default, argument types that refuse bad values at parse time
(argparse errors, in the user's terms, before any work), ``--cfg-options``
parsing that keeps spaces, running a tool in-process."""
import argparse
import copy
import importlib.util
import math
import os
import os.path as osp
import re
import tempfile
import textwrap
from types import ModuleType
from typing import Any, List, Optional, Sequence, Union

from mmengine.config import DictAction as _MMEngineDictAction

TOOLS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'tools')


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``--help`` with every option's default, and descriptions as written.

    argparse's ``ArgumentDefaultsHelpFormatter`` skips options without a help
    text and rewraps the tools' docstrings; this one shows ``(default: X)``
    for every option whose default is a value (not None, not a False flag),
    unless its help already says what the default is.
    """

    @staticmethod
    def _shows_default(action: argparse.Action) -> bool:
        return (action.default not in (None, False, argparse.SUPPRESS)
                and action.help is not argparse.SUPPRESS
                and 'default' not in (action.help or '').lower())

    def add_argument(self, action: argparse.Action) -> None:
        if not action.help and self._shows_default(action):
            action = copy.copy(action)
            action.help = '(default: %(default)s)'
        super().add_argument(action)

    def _split_lines(self, text: str, width: int) -> List[str]:
        # argparse's wrapping, but paths and option names are not cut at hyphens
        return textwrap.wrap(re.sub(r'\s+', ' ', text).strip(), width,
                             break_on_hyphens=False)

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = (action.help or '').strip()
        if self._shows_default(action):
            help_text = f'{help_text} (default: %(default)s)'.strip()
        return help_text


def tool_parser(description: Optional[str] = None, **kwargs) -> argparse.ArgumentParser:
    """The ``ArgumentParser`` of every tool: ``--help`` lists the defaults.

    A user should see that ``tools/test.py --num-samples`` is 2048 (hours on
    a CPU) before running it, not after.
    """
    kwargs.setdefault('formatter_class', HelpFormatter)
    return argparse.ArgumentParser(description=description, **kwargs)


def _number(text: str, kind: type) -> Union[int, float]:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'expected {"an integer" if kind is int else "a number"}, got {text!r}')
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f'must be a finite number, got {text!r}')
    return value


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1, refused at parse time in the user's terms."""
    value = _number(text, int)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


def non_negative_int(text: str) -> int:
    """An argparse type: an int >= 0 (seeds, worker counts, class labels)."""
    value = _number(text, int)
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {value}')
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite float > 0."""
    value = _number(text, float)
    if not value > 0:
        raise argparse.ArgumentTypeError(f'must be > 0, got {value:g}')
    return value


def non_negative_float(text: str) -> float:
    """An argparse type: a finite float >= 0."""
    value = _number(text, float)
    if value < 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {value:g}')
    return value


def _check_folder_writable(folder: str, what: str) -> None:
    """Create ``folder`` if needed and write (then remove) a temporary file in it.

    A real write, not ``os.access``: access checks pass for root and miss
    read-only mounts and full quotas.
    """
    try:
        os.makedirs(folder, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise argparse.ArgumentTypeError(
            f'cannot write {what}: {error.strerror or error} ({folder})')


def writable_file(text: str) -> str:
    """An argparse type: a file path whose folder can be written (made if missing).

    Checked when the arguments are parsed, so a tool that works for an hour
    does not lose its results to an unwritable ``--out`` at the end.
    """
    if osp.isdir(text):
        raise argparse.ArgumentTypeError(f'{text} is a folder, expected a file path')
    if osp.exists(text) and not os.access(text, os.W_OK):
        raise argparse.ArgumentTypeError(f'cannot write {text}: permission denied')
    _check_folder_writable(osp.dirname(osp.abspath(text)), text)
    return text


def writable_dir(text: str) -> str:
    """An argparse type: a folder that can be written (made if missing)."""
    if osp.exists(text) and not osp.isdir(text):
        raise argparse.ArgumentTypeError(f'{text} exists and is not a folder')
    _check_folder_writable(osp.abspath(text), text)
    return text


def check_labels(labels: Sequence[int], num_classes: int) -> None:
    """Raise ``ValueError`` unless every label is a class of the model.

    ``num_classes`` 0 is an unconditional model, which takes no labels.
    """
    if not labels:
        return
    if not num_classes:
        raise ValueError('--labels: the model is unconditional (no classes); '
                         'leave --labels out')
    bad = sorted({label for label in labels if not 0 <= label < num_classes})
    if bad:
        raise ValueError(f'--labels: {", ".join(map(str, bad))} not in the model\'s '
                         f'{num_classes} classes (labels 0 to {num_classes - 1})')


def _next_comma(text: str) -> int:
    """Index of the first top-level comma (outside brackets), or ``len(text)``."""
    depth = 0
    for index, char in enumerate(text):
        if char in '([':
            depth += 1
        elif char in ')]':
            depth -= 1
        elif char == ',' and depth == 0:
            return index
    return len(text)


class DictAction(_MMEngineDictAction):
    """mmengine's ``--cfg-options`` parser, keeping the spaces inside values.

    mmengine's removes every space of a value (``data_root="/a path"``
    becomes ``/apath``); here only the spaces around elements, commas and
    brackets go, so ``data_root="/my data/k600"`` keeps its path and
    ``key="[1, 2]"`` is still ``[1, 2]``. Everything else is mmengine's:
    ``KEY=V1,V2`` and ``KEY=[V1,(V2,V3)]`` are lists and tuples, ints,
    floats, ``true/false`` and ``None`` are converted, and a value with a
    top-level comma is a list (so a path holding a comma needs a config
    file, not ``--cfg-options``).
    """

    @staticmethod
    def _parse_iterable(val: str) -> Any:
        val = val.strip().strip('\'"').strip()
        if val.count('(') != val.count(')') or val.count('[') != val.count(']'):
            raise argparse.ArgumentTypeError(f'unbalanced brackets in {val!r}')
        is_tuple = val.startswith('(') and val.endswith(')')
        if is_tuple or (val.startswith('[') and val.endswith(']')):
            val = val[1:-1]
        elif ',' not in val:
            return _MMEngineDictAction._parse_int_float_bool(val)
        values: List[Any] = []
        while val.strip():
            comma = _next_comma(val)
            values.append(DictAction._parse_iterable(val[:comma]))
            val = val[comma + 1:]
        return tuple(values) if is_tuple else values

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        for item in values or ():
            if '=' not in item:
                parser.error(f'{option_string}: expected KEY=VALUE, got {item!r}')
        try:
            super().__call__(parser, namespace, values, option_string)
        except argparse.ArgumentTypeError as error:
            parser.error(f'{option_string}: {error}')


def load_tool(relative_path: str) -> ModuleType:
    """A tool of this repository (``'test.py'``) as a module, to call its ``main(argv)``.

    The demo and the analysis tools score models through ``tools/test.py``
    itself, so there is one evaluation path. The tools folder is not a package
    (and ``test`` would shadow the standard library's), hence the file loader.
    """
    path = osp.abspath(osp.join(TOOLS_DIR, relative_path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: run from a checkout of the HVG repository')
    spec = importlib.util.spec_from_file_location(
        'hvg_tool_' + osp.splitext(osp.basename(path))[0], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(path: str, cfg_options: Optional[dict] = None):
    """A tool's config: the file (a clear exit if missing) with ``--cfg-options`` merged."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise SystemExit(f'error: config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
