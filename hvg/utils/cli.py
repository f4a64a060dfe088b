"""Small helpers the command-line tools share: argument types, running a tool in-process."""
import argparse
import importlib.util
import os.path as osp
from types import ModuleType

TOOLS_DIR = osp.join(osp.dirname(osp.abspath(__file__)), '..', '..', 'tools')


def positive_int(text: str) -> int:
    """An argparse type: an int >= 1, refused at parse time in the user's terms."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {value}')
    return value


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
