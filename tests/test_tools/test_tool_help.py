"""Every tool's ``--help`` shows its defaults, every tool that takes a config
takes ``--cfg-options``, and the ``--cfg-options`` keys the docs and hints
suggest exist in a config."""
import argparse
import re
from pathlib import Path

import pytest
from mmengine.config import Config

import hvg.utils.cli as cli
from hvg.utils.cli import load_tool

REPO = Path(__file__).resolve().parents[2]
TOOLS = sorted(str(p.relative_to(REPO / 'tools')) for p in (REPO / 'tools').rglob('*.py')
               if p.name != 'video_tree_cli.py')  # a helper: its tools are listed


def shows_default(action: argparse.Action) -> bool:
    return action.default not in (None, False, argparse.SUPPRESS)


@pytest.mark.parametrize('tool', TOOLS)
def test_help_shows_every_default(tool, monkeypatch, capsys):
    parsers, tool_parser = [], cli.tool_parser

    def recording_parser(*args, **kwargs):
        parsers.append(tool_parser(*args, **kwargs))
        return parsers[-1]

    monkeypatch.setattr(cli, 'tool_parser', recording_parser)  # before the tool imports it
    module = load_tool(tool)
    with pytest.raises(SystemExit) as exit_info:
        module.main(['--help'])
    assert exit_info.value.code in (0, None)
    shown = capsys.readouterr().out
    assert len(parsers) == 1, f'{tool} does not build its parser with hvg.utils.cli.tool_parser'
    parser = parsers[0]
    for action in parser._actions:
        if shows_default(action) and 'default' not in (action.help or '').lower():
            assert f'(default: {action.default})' in re.sub(r'\s+', ' ', shown), \
                f'{tool} {action.option_strings}: no default in --help'
    if any(action.dest == 'config' for action in parser._actions):
        assert '--cfg-options' in shown, f'{tool} takes a config but no --cfg-options'


def test_the_test_tool_says_its_sample_count_before_it_runs(capsys):
    with pytest.raises(SystemExit):
        load_tool('test.py').main(['--help'])
    assert re.search(r'--num-samples[^\n]*\n?[^\n]*\(default: 2048\)', capsys.readouterr().out)


def test_subcommands_show_their_defaults(capsys):
    with pytest.raises(SystemExit):
        load_tool('analysis/analyze_logs.py').main(['plot_curve', '--help'])
    shown = capsys.readouterr().out
    assert "(default: ['loss_disc', 'loss_gen'])" in shown and '(default: curves.png)' in shown


def suggested_keys():
    """``--cfg-options KEY=...`` in the docs, tools and messages (not the tests)."""
    files = [p for p in REPO.rglob('*') if p.suffix in ('.py', '.md')
             and not p.relative_to(REPO).parts[0] in ('tests', '.git', '.venv', 'work_dirs')]
    keys = {}
    for path in files:
        text = path.read_text()
        for match in re.finditer(r'--cfg-options', text):
            for token in re.split(r'\s+', text[match.end():match.end() + 400])[1:]:
                token = token.strip('`\'",()\\')
                key = re.match(r'^([a-z_]\w*(?:\.[\w{}]+)+)=', token)
                if key:
                    keys.setdefault(key.group(1), path.name)
                elif token.startswith(('--', '#')) or (token and '=' not in token):
                    break
    return keys


def has_key(cfg, key: str) -> bool:
    node = cfg
    for part in key.replace('{index}', '0').split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif hasattr(node, 'keys') and part in node:
            node = node[part]
        else:
            return False
    return True


def test_suggested_cfg_options_keys_exist_in_a_config():
    keys = suggested_keys()
    assert 'model.lowres_source.levels.0.checkpoint' in keys  # the scan finds hints
    configs = [Config.fromfile(p) for p in sorted((REPO / 'configs' / 'hvg').glob('*.py'))]
    stale = {k: where for k, where in keys.items()
             if not any(has_key(cfg, k) for cfg in configs)}
    assert not stale, f'--cfg-options keys no config has: {stale}'
