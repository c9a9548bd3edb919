"""`novara backup` and `novara restore`: their arguments, and what they refuse before running Barman.

Fast: no Barman needed (the drill in tests/recovery runs the commands for real: `make test-recovery`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from novara import backup, embedded
from tests.conftest import novara, novara_env


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return novara_env(NOVARA_DATA_DIR=str(tmp_path / "data"), NOVARA_BACKUP_DIR=str(tmp_path / "repo"), **extra)


@pytest.mark.parametrize(
    "args",
    [
        ["backup"],
        ["backup", "setup"],
        ["backup", "now"],
        ["backup", "list"],
        ["backup", "check"],
        ["restore"],
    ],
)
def test_help(args: list[str], tmp_path: Path) -> None:
    r = novara(*args, "--help", env=env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"usage: novara {' '.join(args)}"), r.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["backup"], "ACTION"),
        (["backup", "bogus"], "invalid choice"),
        (["backup", "setup", "--retention-days", "0"], "between 1 and 3650"),
        (["backup", "setup", "--retention-days", "two"], "whole number"),
        (["backup", "now", "--quick"], "unrecognized"),
        (["restore"], "--to"),
        (["restore", "--to", "yesterday"], "ISO 8601"),
        (["restore", "--to", "2026-13-01 00:00"], "ISO 8601"),
        (["restore", "--to", "2999-01-01T00:00:00Z"], "in the future"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], needle: str, tmp_path: Path) -> None:
    r = novara(*args, env=env(tmp_path))
    assert r.returncode == 2, r.stdout + r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "error" in r.stderr and needle in r.stderr, r.stderr
    assert not (tmp_path / "data").exists(), "a bad argument started something"


def test_restore_never_overwrites(tmp_path: Path) -> None:
    target = tmp_path / "busy"
    target.mkdir()
    (target / "keep-me").write_text("x")
    r = novara("restore", "--to", "2026-01-01 00:00:00+00", "--target-dir", str(target), env=env(tmp_path))
    assert r.returncode == 2, r.stdout + r.stderr
    assert "not empty" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert [p.name for p in target.iterdir()] == ["keep-me"]


@pytest.mark.parametrize(
    "args", [["backup", "now"], ["backup", "list"], ["backup", "check"], ["restore", "--to", "2026-01-01"]]
)
def test_no_repository_is_one_line_and_exit_1(args: list[str], tmp_path: Path) -> None:
    r = novara(*args, env=env(tmp_path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "no backup is set up in" in r.stderr and "novara backup setup" in r.stderr, r.stderr
    assert not (tmp_path / "data").exists(), "the embedded server was started for nothing"


def test_missing_barman_is_named_with_the_fix(tmp_path: Path) -> None:
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "barman.conf").write_text("[barman]\n")
    r = novara("backup", "list", env=env(tmp_path, NOVARA_BARMAN=str(tmp_path / "no-barman")))
    assert r.returncode == 1
    assert "barman is not installed" in r.stderr and "[backup]" in r.stderr, r.stderr


def test_the_target_instant() -> None:
    assert backup.parse_target("2026-11-07 14:03:00+01") == dt.datetime(2026, 11, 7, 13, 3, tzinfo=dt.UTC)
    assert backup.parse_target("2026-11-07T14:03:00") == dt.datetime(2026, 11, 7, 14, 3, tzinfo=dt.UTC)  # UTC
    with pytest.raises(ValueError, match="in the future"):
        backup.parse_target((dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).isoformat())


def test_the_backup_a_restore_starts_from() -> None:
    def at(hour: int) -> dt.datetime:
        return dt.datetime(2026, 12, 7, hour, tzinfo=dt.UTC)

    backups = [
        backup.Backup("20261207T010000", "DONE", at(1)),
        backup.Backup("20261207T030000", "FAILED", at(3)),
        backup.Backup("20261207T050000", "DONE", at(5)),
    ]
    assert backup.choose_backup(backups, at(4)).backup_id == "20261207T010000"  # the newest that ended before
    assert backup.choose_backup(backups, at(6)).backup_id == "20261207T050000"
    assert backup.choose_backup(backups, None).backup_id == "20261207T050000"
    with pytest.raises(backup.BackupError, match="no backup ended before"):
        backup.choose_backup(backups, at(0))
    with pytest.raises(backup.BackupError, match="no complete backup"):
        backup.choose_backup(backups[1:2], at(6))


def test_configuration_is_streaming_only_with_the_embedded_tools(tmp_path: Path) -> None:
    text = backup.config_text(backup.Repo(tmp_path), backup.conninfo("postgresql://postgres@/novara?host=/s"), 30)
    assert "conninfo = user=postgres dbname=novara host=/s" in text
    assert "backup_method = postgres" in text and "streaming_archiver = on" in text
    assert f"path_prefix = {embedded.bin_dir()}" in text
    assert "RECOVERY WINDOW OF 30 DAYS" in text and "archive_command" not in text
