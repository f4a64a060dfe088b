"""The README starts with its two commands, and CI runs the second verbatim."""
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list:
    text = (REPO / 'README.md').read_text()
    section = text.split('## Quick start', 1)[1]
    block = re.search(r'```bash\n(.*?)```', section, re.S)
    assert block, 'README: no bash block in the Quick start section'
    # the block is the section's first content after one introductory paragraph
    assert section.index('```bash') < 600, 'README: the two commands must open Quick start'
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_demo_and_the_test_commands():
    demo, tests = quick_start_commands()
    assert demo.endswith('python tools/demo.py') and 'pip install -e .[demo]' in demo
    assert 'pytest tests' in tests and 'pip install -e .[tests]' in tests


def test_ci_runs_the_readme_test_command_verbatim():
    _, tests = quick_start_commands()
    ci = [line for line in (REPO / '.ci' / 'run').read_text().splitlines()
          if line.strip() and not line.startswith('#')]
    assert ci[-1] == tests
