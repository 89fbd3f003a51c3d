import pytest

from qt_pennylane import checkpoint as checkpoint_module
from qt_pennylane.checkpoint import check_same_config, load_checkpoint, save_atomic


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save_atomic({"epoch": 1}, path)

    def crashing_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_atomic({"epoch": 2}, path)
    assert load_checkpoint(path) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_damaged_and_missing_checkpoints_are_named(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"checkpoint '.*bad.pt' cannot be read"):
        load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match=r"'.*nope.pt' does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_config_mismatch_names_each_setting():
    check_same_config({"a": 1}, {"a": 1}, "x")
    with pytest.raises(ValueError, match=r"a: checkpoint 1 vs now 2; b: checkpoint None vs now 3"):
        check_same_config({"a": 1}, {"a": 2, "b": 3}, "x")
