"""The parts of the session commands that need no server: which messages are shell
commands, the shell runner's limits, /diff's cut, Discord names for OpenCode's commands."""

from __future__ import annotations

from pathlib import Path

from kimaki.bot.commands.dynamic import slash_name
from kimaki.bot.commands.info import diff_answer
from kimaki.bot.commands.shell import shell_words, shown
from kimaki.opencode.models import FileDiff
from kimaki.shell import ShellRunner


def test_bang_messages_are_shell_commands_but_the_interrupt_prefix_is_not() -> None:
    assert shell_words("!git status") == "git status"
    assert shell_words("  ! ls -l ") == "ls -l"
    assert shell_words("!now fix the tests") is None, "`!now ` interrupts the running turn"
    assert shell_words("!NOW stop") is None
    assert shell_words("!nowhere --help") == "nowhere --help"
    assert shell_words("!") is None and shell_words("git status") is None


async def test_the_runner_stops_at_its_time_limit_caps_output_and_hides_kimakis_variables(
    tmp_path: Path,
) -> None:
    env = {"PATH": "/usr/bin:/bin", "KIMAKI_BOT_TOKEN": "t0ken", "KEEP": "yes"}
    runner = ShellRunner(time_limit=0.5, output_limit=10, environ=env)
    slow = await runner.run("echo started; sleep 30 & wait", tmp_path)
    assert slow.timed_out and slow.exit_code is None and slow.output == "started\n"
    assert "stopped after 0.5 s (the time limit)" in shown(slow).text
    loud = await runner.run("seq 1 100; env | grep -c KIMAKI_; echo $KEEP >&2; exit 4", tmp_path)
    assert loud.truncated and loud.exit_code == 4 and loud.output == "1\n2\n3\n4\n5\n"
    assert "failed with exit code 4 (output cut to its first 10 bytes)" in shown(loud).text
    quiet = await runner.run("env | grep KIMAKI_ || echo none; echo $KEEP", tmp_path)
    assert quiet.output == "none\nyes\n" and quiet.exit_code == 0


def diff(name: str, size: int) -> FileDiff:
    return FileDiff(name, "+" * (size - 1), size, 0, "added", {})


def test_diff_keeps_whole_files_within_its_limit_and_says_it_cut() -> None:
    whole = diff_answer("/p/app", [diff("a", 40), diff("b", 40)], limit=100)
    assert whole.text.startswith("2 files changed, +80 −0\n`a` +40 −0 (added)")
    assert "cut" not in whole.text and whole.files[0].filename == "app.diff"
    cut = diff_answer("/p/app", [diff("a", 40), diff("b", 40), diff("c", 40)], limit=100)
    assert "the patch is cut to the first 2 of 3 files (it may hold 100 bytes)" in cut.text
    many = diff_answer("/p/app", [diff(f"f{i}", 1) for i in range(12)], limit=100)
    assert many.text.endswith("`f9` +1 −0 (added)\nand 2 more")


def test_opencode_names_become_discord_command_names() -> None:
    assert slash_name("Review PR", "-cmd") == "review-pr-cmd"
    assert slash_name("x" * 40, "-agent") == "x" * 26 + "-agent"
    assert slash_name("日本", "-cmd") is None
