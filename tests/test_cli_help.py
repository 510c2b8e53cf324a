"""`evalprep --help` and every subcommand's help, as the office reads them: the real command in a subprocess,
all in Chinese (argparse's own words too), every option described, the profiles listed from the catalogue."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest

from flows.cli import build_parser
from expectations.catalogue import profile_names

CJK = re.compile(r"[\u4e00-\u9fff]")
ARGPARSE_ENGLISH = ("usage:", "positional arguments", "options:", "optional arguments", "show this help")


def subcommands() -> dict:
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return dict(action.choices)


def help_text(*args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "flows.cli", *args, "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_top_level_help_is_chinese_and_names_every_command():
    text = help_text()
    assert not any(word in text.lower() for word in ARGPARSE_ENGLISH), text
    assert text.startswith("用法：") and "显示本帮助并退出" in text
    flat = "".join(text.split())
    action = next(a for a in build_parser()._actions if a.dest == "command")
    described = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(described) == set(subcommands())
    for name, help in described.items():
        assert CJK.search(help) and "".join(f"{name}{help}".split()) in flat, name


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_each_subcommand_describes_every_option_in_chinese(command):
    text = help_text(command)
    assert not any(word in text.lower() for word in ARGPARSE_ENGLISH), text
    parser = subcommands()[command]
    assert parser.description and CJK.search(parser.description)
    for action in parser._actions:
        for option in action.option_strings:
            assert option in text, (command, option)
        assert action.help and CJK.search(action.help), (command, action.option_strings)
        assert action.metavar is None or action.metavar in text


@pytest.mark.parametrize("command", ["run", "inspect", "rehearse"])
def test_profile_help_lists_the_catalogue_profiles(command):
    text = " ".join(help_text(command).split())  # argparse wraps lines
    for name in profile_names():
        assert name in text.split("--profile", 2)[-1], (command, name)


def test_out_seed_and_serve_say_what_they_do():
    assert "子目录" in help_text("run")  # where the results go
    assert "同一个种子生成完全相同的演示县" in " ".join(help_text("generate-demo").split())
    serve = "".join(help_text("serve").split())
    assert "PREFECT_API_URL" in serve and "prefectserverstart" in serve
