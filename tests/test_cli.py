"""The command's own texts: `--version`, and a `--help` written for the people who run it."""

from __future__ import annotations

from importlib.metadata import version

from archive_fixtures import newsarchive


def test_version_is_the_installed_package_version():
    result = newsarchive("--version")
    assert (result.returncode, result.stdout) == (0, f"newsarchive {version('newsarchive')}\n")


def test_help_says_what_it_does_and_lists_every_command():
    result = newsarchive("--help")
    assert result.returncode == 0
    assert "thin layer" not in result.stdout
    assert "Crawl news sites into archival WARC files" in result.stdout
    for command in ("run", "demo", "browse", "replay", "package", "derive", "export", "schedule", "status"):
        assert f"\n    {command} " in result.stdout


def test_every_commands_help_opens_with_what_it_does():
    for command in ("run", "demo", "extract", "replay", "browse", "package", "rebuild", "derive", "check",
                    "import", "export", "schedule", "status"):
        result = newsarchive(command, "--help")
        assert result.returncode == 0
        description = result.stdout.split("\n\n")[1]
        assert description[0].isupper() and description.rstrip().endswith("."), (command, description)


def test_a_mistyped_option_is_refused_with_that_commands_usage():
    """`check --repiar` showed the top-level usage (COMMAND ...), which lists no option to correct it by."""
    result = newsarchive("check", "--config", "nowhere.toml", "--repiar")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("usage: newsarchive check [-h] [--config CONFIG] [--repair]"), result.stderr
    assert result.stderr.splitlines()[-1] == "newsarchive check: error: unrecognized arguments: --repiar"
