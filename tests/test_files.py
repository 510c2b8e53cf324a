"""evalprep.files.write_atomic: whole files or none, nothing left behind."""
import errno
import stat

import pytest

import evalprep.files as files
from evalprep.files import write_atomic


def test_write_atomic_replaces_whole_files_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out" / "dossier.pdf"
    write_atomic(target, b"first")
    write_atomic(target, lambda handle: handle.write(b"second"))
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["dossier.pdf"]

    def fail(*_):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", fail)
    with pytest.raises(OSError):
        write_atomic(target, b"third")
    assert target.read_bytes() == b"second"
    assert [p.name for p in target.parent.iterdir()] == ["dossier.pdf"]


def test_write_atomic_sets_the_mode(tmp_path):
    stored = write_atomic(tmp_path / "stored.pdf", b"x", mode=0o444)
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
