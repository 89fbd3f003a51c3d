"""Checkpoints: atomic writes, safe loading (no code from the file runs) through every loading path, structure checks."""
import ast
import pickle
from pathlib import Path

import pytest
import torch
from torch.utils.data import TensorDataset

import qt_pennylane
from qt_pennylane import QuantumTrainModel
from qt_pennylane.cli import main
from qt_pennylane.tasks import get_task, load_classical, save_classical
from qt_pennylane.training.gradient import fit
from qt_pennylane.training.schedule import paper_schedule

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


class FilePayload:
    """Unpickling it creates ``marker`` (``open(marker, "w")``): a side effect any process can see."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


IRIS_CONFIG = {"task": "iris", "reps": 1}


def iris_model(reps=1):
    return QuantumTrainModel(get_task("iris").build_model(), reps=reps, seed=0, generate="all", scale="none",
                             mapping="paper")


def evil_run_checkpoint(path: Path, marker: Path, *, reps: int = 1) -> Path:
    """A genuine run checkpoint (model, config, history, ...) of an Iris model with ``reps``, plus one payload entry."""
    paper_schedule(iris_model(reps), *get_task("iris").load(), periods=1, phi_iters=1, gamma_iters=1,
                   checkpoint=path, config={**IRIS_CONFIG, "reps": reps}, progress=False)
    state = torch.load(path, weights_only=True)
    state["extra"] = FilePayload(marker)
    torch.save(state, path)
    assert not marker.exists()
    return path


REFUSED = r"holds more than tensors and plain values \(io.open\) and was refused unread: nothing in it ran"


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


@pytest.mark.parametrize("reps", [1, 2], ids=["same model", "another model"])
def test_fit_resume_does_not_run_code_from_the_checkpoint(tmp_path, reps):
    marker = tmp_path / "pwned"
    path = evil_run_checkpoint(tmp_path / "c.pt", marker, reps=reps)
    with pytest.raises(ValueError, match=REFUSED):
        fit(iris_model(), *get_task("iris").load(), epochs=2, resume=path, config=IRIS_CONFIG, progress=False)
    assert not marker.exists()


@pytest.mark.parametrize("reps", [1, 2], ids=["same model", "another model"])
def test_paper_schedule_resume_does_not_run_code_from_the_checkpoint(tmp_path, reps):
    marker = tmp_path / "pwned"
    path = evil_run_checkpoint(tmp_path / "c.pt", marker, reps=reps)
    with pytest.raises(ValueError, match=REFUSED):
        paper_schedule(iris_model(), *get_task("iris").load(), periods=2, phi_iters=1, gamma_iters=1, resume=path,
                       config=IRIS_CONFIG, progress=False)
    assert not marker.exists()


def test_load_checkpoint_does_not_run_code_and_the_payload_is_real(tmp_path):
    marker = tmp_path / "pwned"
    path = evil_run_checkpoint(tmp_path / "c.pt", marker)
    with pytest.raises(ValueError, match=REFUSED):
        load_checkpoint(path)
    assert not marker.exists()
    torch.load(path, weights_only=False)  # what the old loader did: the payload runs
    assert marker.exists()


@pytest.mark.parametrize("reps", ["1", "2"], ids=["same model", "another model"])
def test_cli_resume_does_not_run_code_from_the_checkpoint(tmp_path, capsys, reps):
    marker = tmp_path / "pwned"
    path = evil_run_checkpoint(tmp_path / "c.pt", marker)
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", "--optimizer", "paper", "--phi-iters", "1", "--gamma-iters", "1", "--periods", "2",
              "--reps", reps, "--resume", str(path), "--out", str(tmp_path / "run")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert err == f"qt-pennylane: error: checkpoint {str(path)!r} holds more than tensors and plain values " \
                  "(io.open) and was refused unread: nothing in it ran\n"
    assert not marker.exists()


@pytest.mark.parametrize("task", ["iris", "mnist"], ids=["same task", "another task"])
def test_load_classical_does_not_run_code_from_the_file(tmp_path, task):
    marker = tmp_path / "pwned"
    path = tmp_path / "classical_model.pt"
    torch.save({"format": 1, "task": task, "model": get_task("iris").build_model().state_dict(),
                "extra": FilePayload(marker)}, path)
    with pytest.raises(ValueError, match=REFUSED):
        load_classical(path)
    assert not marker.exists()


def test_load_classical_refuses_weights_of_another_task(tmp_path):
    path = tmp_path / "classical_model.pt"
    save_classical(get_task("iris").build_model(), "mnist", path)
    with pytest.raises(ValueError, match=r"classical_model.pt' belongs to a different model: "
                                         r"Error\(s\) in loading state_dict for MnistCNN: Missing key"):
        load_classical(path)


def _calls(tree, name: str):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == name:
            yield node


def test_the_package_loads_files_only_with_weights_only():
    """Every ``torch.load`` in the package passes ``weights_only=True``; nothing else unpickles."""
    sources = sorted(Path(qt_pennylane.__file__).parent.rglob("*.py"))
    loads = []
    for source in sources:
        tree = ast.parse(source.read_text())
        for call in _calls(tree, "torch.load"):
            keywords = {k.arg: ast.unparse(k.value) for k in call.keywords}
            assert keywords.get("weights_only") == "True", f"{source}:{call.lineno}"
            loads.append(source.name)
        for unsafe in ("pickle.load", "pickle.loads", "torch.jit.load", "dill.load"):
            if (source.name, unsafe) == ("distributed.py", "pickle.loads"):
                continue  # checks that an error this process just raised survives pickling; reads no file
            assert not list(_calls(tree, unsafe)), f"{unsafe} in {source}"
    assert loads == ["checkpoint.py"]  # the one loader that load_classical and every resume go through
