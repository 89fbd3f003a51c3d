"""Checkpoints: atomic writes, safe loading (no code from the file runs), structure checks."""
import pickle

import pytest
import torch

from qt_pennylane.training import checkpoint as checkpoint_module
from qt_pennylane.training.checkpoint import (
    FORMAT,
    check_same_config,
    load_checkpoint,
    load_model_state,
    remove_stale_temporaries,
    save_atomic,
)

RAN = []


def mark(message):
    RAN.append(message)


class Payload:
    """An object whose unpickling runs code: what a malicious checkpoint carries."""

    def __reduce__(self):
        return (mark, ("code from the file ran",))


def test_crash_mid_write_keeps_the_old_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.pt"
    save_atomic({"epoch": 1}, path)

    def crashing_save(obj, handle):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_module.torch, "save", crashing_save)
    with pytest.raises(KeyboardInterrupt):
        save_atomic({"epoch": 2}, path)
    assert load_checkpoint(path, required=("epoch",)) == {"epoch": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.pt"]  # no temporary file left behind


def test_stale_temporaries_of_killed_writes_are_removed(tmp_path):
    path = tmp_path / "checkpoint.pt"
    save_atomic({"epoch": 1}, path)
    (tmp_path / ".checkpoint.pt.abc123.tmp").write_bytes(b"half")
    (tmp_path / ".other.pt.x.tmp").write_bytes(b"not ours")
    removed = remove_stale_temporaries(path)
    assert [p.name for p in removed] == [".checkpoint.pt.abc123.tmp"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.pt.x.tmp", "checkpoint.pt"]


def test_damaged_and_missing_checkpoints_are_named(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"checkpoint '.*bad.pt' cannot be read"):
        load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match=r"'.*nope.pt' does not exist"):
        load_checkpoint(tmp_path / "nope.pt")


def test_a_checkpoint_carrying_code_is_refused_before_the_code_runs(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "model": {}, "extra": Payload()}, path)
    RAN.clear()
    with pytest.raises(ValueError, match=r"holds more than tensors and plain values \(test_checkpoint.mark\) and was refused unread: nothing in it ran"):
        load_checkpoint(path)
    assert RAN == []
    with open(path, "rb") as handle:  # the same file, loaded unsafely, does run the payload
        torch.load(handle, weights_only=False)
    assert RAN == ["code from the file ran"]


@pytest.mark.parametrize(
    "content, match",
    [
        ([1, 2, 3], r"is not a qt_pennylane checkpoint: it holds a list, not a dict"),
        ({"format": FORMAT}, r"is not a qt_pennylane checkpoint: it lacks \['model'\]"),
        ({"format": 1, "model": {}}, r"has format 1; this version reads format 2"),
    ],
)
def test_wrong_structures_are_named(tmp_path, content, match):
    path = tmp_path / "c.pt"
    torch.save(content, path)
    with pytest.raises(ValueError, match=match):
        load_checkpoint(path)


def test_model_state_of_another_shape_or_with_nan_is_refused(tmp_path):
    model = torch.nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"checkpoint 'c.pt' belongs to a different model: .*size mismatch for weight"):
        load_model_state(model, torch.nn.Linear(4, 2).state_dict(), "c.pt")
    state = model.state_dict()
    state["weight"] = torch.full((2, 3), float("nan"))
    with pytest.raises(ValueError, match=r"checkpoint 'c.pt' holds non-finite values in 'weight'"):
        load_model_state(model, state, "c.pt")
    with pytest.raises(ValueError, match=r"its model state is a list"):
        load_model_state(model, [1], "c.pt")


def test_config_mismatch_names_each_setting():
    check_same_config({"a": 1, "hidden": [4, 4]}, {"a": 1, "hidden": (4, 4)}, "x.pt")  # a tuple saved reads back as itself
    with pytest.raises(ValueError, match=r"a: checkpoint 1 vs now 2; b: checkpoint None vs now 3"):
        check_same_config({"a": 1}, {"a": 2, "b": 3}, "x.pt")


def test_pickle_error_type_is_what_torch_raises(tmp_path):
    """Guards the except clause of load_checkpoint: weights_only refusals are UnpicklingErrors."""
    path = tmp_path / "evil.pt"
    torch.save({"x": Payload()}, path)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(path, weights_only=True)
