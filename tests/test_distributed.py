"""Data-parallel training on 2 gloo processes (CPU): the same result as one process, rank 0 alone writes.

Each fixture starts 2 processes once (``torch.multiprocessing``, 1 torch thread each, the
environment ``torchrun`` would set) and runs a group of scenarios in them; each process works in
its own empty folder with relative file names, so a file rank 1 wrote would show up in its folder.
The one-process references run the same scenario functions in this process, without a process group.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import time
from pathlib import Path

import pytest
import scipy.optimize
import torch
import torch.multiprocessing as mp
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from qt_pennylane import QuantumTrainModel, evaluate, fit, paper_schedule
from qt_pennylane.circuit.sampling import random_states
from qt_pennylane.cli import main
from qt_pennylane.training import distributed, loop

WORLD = 2
COMPARED = ("loss", "train_loss", "train_accuracy", "test_loss", "test_accuracy")


def blobs(n: int, seed: int = 0) -> TensorDataset:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return TensorDataset(x, (x[:, 0] + 0.5 * x[:, 1] > 0).long())


def mlp_model(seed: int = 0, **options) -> QuantumTrainModel:
    torch.manual_seed(seed)  # the target's own init (its classical biases)
    return QuantumTrainModel(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)), reps=2, seed=seed,
                             **options)


def paper_model(seed: int = 0, **options) -> QuantumTrainModel:
    torch.manual_seed(seed)
    return QuantumTrainModel(nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2)), generate="all", scale="none",
                             mapping="paper", reps=1, seed=seed, **options)


def outcome(model: nn.Module, history: list[dict]) -> dict:
    return {"params": [p.detach().clone() for p in model.parameters()],
            "buffers": {k: b.clone() for k, b in model.state_dict().items()},
            "streams": random_states(model), "history": history}


class CountingLoss(nn.CrossEntropyLoss):
    """Cross-entropy that records the batch sizes it sees."""

    def __init__(self):
        super().__init__()
        self.sizes = []

    def forward(self, outputs, targets):
        self.sizes.append(len(targets))
        return super().forward(outputs, targets)


class CountingModule(nn.Linear):
    """A linear layer that counts the examples it sees."""

    seen = 0

    def forward(self, x):
        self.seen += len(x)
        return super().forward(x)


def interrupt_after_saves(count: int):
    """Make both ranks stop (as if killed) right after the ``count``-th checkpoint of a run."""
    real, calls = loop.RunLog.save, []

    def save_then_stop(self, done, trainer_state):
        real(self, done, trainer_state)
        calls.append(done)
        if len(calls) == count:
            raise KeyboardInterrupt

    return save_then_stop


# ----------------------------------------------------------------------------- scenarios (run in each process)
def gradient_runs() -> dict:
    train, test = blobs(30), blobs(11, seed=1)
    out = {}
    model, counting = mlp_model(), CountingLoss()  # 30 = 4 global batches of 7 (parts 4 + 3) and one of 2 (1 + 1)
    out["exact"] = outcome(model, fit(model, train, test, loss_fn=counting, epochs=3, batch_size=7, lr=0.05,
                                      progress=False))
    out["batch_sizes"] = counting.sizes
    probe = CountingModule(3, 2)
    out["evaluation"] = dict(evaluate(probe, test), seen=probe.seen, parts=(len(distributed.shard(test)),
                                                                          len(distributed.shard(test, count=4))))
    probe = CountingModule(3, 2)  # a loader is each rank's part already: the first 5 examples, shared out
    loader = DataLoader(test, batch_size=4, sampler=DistributedSampler(test, shuffle=False)) \
        if distributed.active() else DataLoader(test, batch_size=4)
    out["loader_evaluation"] = dict(evaluate(probe, loader, limit=5), seen=probe.seen)
    model = mlp_model(shots=300)
    out["shots"] = outcome(model, fit(model, train, test, epochs=2, batch_size=8, lr=0.05, progress=False))
    kwargs = dict(epochs=3, batch_size=8, lr=0.05, seed=4, progress=False, config={"run": "resume"})
    model = mlp_model(shots=300, shot_noise="fresh")
    out["straight"] = outcome(model, fit(model, train, test, **kwargs))
    original = loop.RunLog.save
    loop.RunLog.save = interrupt_after_saves(1)
    try:
        fit(mlp_model(shots=300), train, test, checkpoint="c.pt", **kwargs)
    except KeyboardInterrupt:
        pass
    finally:
        loop.RunLog.save = original
    model = mlp_model(seed=9, shots=300)  # another start: the checkpoint replaces it
    out["resumed"] = outcome(model, fit(model, train, test, checkpoint="c.pt", resume="c.pt", **kwargs))
    pairs = blobs(32)
    if distributed.active():  # each rank's own loader: 4 per rank, 8 per global batch
        loader = DataLoader(pairs, batch_size=4, sampler=DistributedSampler(pairs, shuffle=False))
    else:
        loader = DataLoader(pairs, batch_size=8)
    model = mlp_model()
    out["loader"] = outcome(model, fit(model, loader, test, epochs=2, lr=0.05, progress=False))
    torch.manual_seed(distributed.rank())  # seed=None: each rank draws other angles and shot streams
    model = QuantumTrainModel(nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2)), reps=1,
                              shots=200)
    out["batchnorm"] = outcome(model, fit(model, train, test, epochs=2, batch_size=10, lr=0.05, progress=False))
    try:
        fit(mlp_model(), train, epochs=1, batch_size=29, progress=False)  # a last batch of 1 for 2 processes
    except ValueError as error:
        out["error"] = str(error)
    return out


def schedule_runs() -> dict:
    train, test = blobs(30), blobs(11, seed=1)
    kwargs = dict(phi_iters=5, gamma_iters=2, progress=False, config={"run": "schedule"})
    out = {"scipy_calls": 0}
    real = scipy.optimize.minimize

    def counted(*args, **options):
        out["scipy_calls"] += 1
        return real(*args, **options)

    scipy.optimize.minimize = counted
    model = paper_model()
    out["exact"] = outcome(model, paper_schedule(model, train, test, periods=3, **kwargs))
    paper_schedule(paper_model(), train, test, periods=2, checkpoint="s.pt", **kwargs)
    model = paper_model(seed=7)
    out["resumed"] = outcome(model, paper_schedule(model, train, test, periods=3, resume="s.pt", **kwargs))
    model = paper_model(shots=500)
    out["shots"] = outcome(model, paper_schedule(model, train, test, periods=1, phi_iters=4, gamma_iters=1,
                                                 progress=False))
    scipy.optimize.minimize = real
    return out


def cli_runs(ports: list[int]) -> dict:
    out = {}
    argv = ["train", "--task", "iris", "--eval-every", "1", "--limit", "41", "--quiet", "--out", "run"]
    for name, extra, port in (("first", ["--epochs", "3"], ports[0]), ("again", ["--epochs", "3"], ports[1]),
                              ("resumed", ["--epochs", "4", "--resume", "run/checkpoint.pt", "--overwrite"],
                               ports[2])):
        os.environ["MASTER_PORT"] = str(port)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = main(argv + extra)
            except SystemExit as stop:
                status = stop.code
        written = Path("run/summary.json")
        out[name] = {"status": status, "stdout": stdout.getvalue(), "stderr": stderr.getvalue(),
                     "group_left": not torch.distributed.is_initialized(),
                     "epochs": [r["epoch"] for r in json.loads(written.read_text())["history"]]
                     if written.exists() else None}
    return out


SCENARIOS = {"gradient": gradient_runs, "schedule": schedule_runs, "cli": cli_runs}


def worker(rank: int, scenario: str, ports: list[int], root: str) -> None:
    os.environ.update(RANK=str(rank), LOCAL_RANK=str(rank), WORLD_SIZE=str(WORLD), MASTER_ADDR="127.0.0.1",
                      MASTER_PORT=str(ports[0]))
    torch.set_num_threads(1)
    home = Path(root) / f"rank{rank}"
    home.mkdir()
    os.chdir(home)
    if scenario == "cli":
        result = cli_runs(ports)
    else:
        distributed.setup()
        result = SCENARIOS[scenario]()
        distributed.shutdown()
    result["files"] = sorted(str(p.relative_to(home)) for p in home.rglob("*"))
    torch.save(result, Path(root) / f"result{rank}.pt")


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def launch(scenario: str, root: Path, timeout_s: float = 180) -> list[dict]:
    """Run ``scenario`` on 2 processes; return each rank's result."""
    context = mp.start_processes(worker, args=(scenario, free_ports(3), str(root)), nprocs=WORLD, join=False,
                                 start_method="fork")  # no second start of Python and torch
    deadline = time.monotonic() + timeout_s
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the 2-process {scenario} runs did not finish in {timeout_s} s")
    return [torch.load(root / f"result{r}.pt", weights_only=False) for r in range(WORLD)]


def single(scenario, tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("single")
    here = os.getcwd()
    os.chdir(folder)
    try:
        torch.manual_seed(0)
        return scenario()
    finally:
        os.chdir(here)


@pytest.fixture(scope="module")
def gradient(tmp_path_factory):
    one = single(gradient_runs, tmp_path_factory)  # first: the processes forked next inherit its imports
    return launch("gradient", tmp_path_factory.mktemp("gradient")), one


@pytest.fixture(scope="module")
def schedule(tmp_path_factory):
    one = single(schedule_runs, tmp_path_factory)
    return launch("schedule", tmp_path_factory.mktemp("schedule")), one


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    return launch("cli", tmp_path_factory.mktemp("cli"))


def assert_same_on_both_ranks(ranks: list[dict], name: str) -> None:
    first, second = ranks[0][name], ranks[1][name]
    for a, b in zip(first["params"], second["params"]):
        assert torch.equal(a, b)
    assert first["history"] == second["history"]
    assert first["streams"].keys() == second["streams"].keys()
    for key in first["streams"]:
        assert first["streams"][key]["rng"] == second["streams"][key]["rng"]


def assert_close(a: dict, b: dict) -> None:
    for x, y in zip(a["params"], b["params"]):
        torch.testing.assert_close(x, y, rtol=1e-5, atol=1e-6)
    for ra, rb in zip(a["history"], b["history"], strict=True):
        assert ra["train_accuracy"] == rb["train_accuracy"] and ra["test_accuracy"] == rb["test_accuracy"]
        assert [ra[k] for k in ra if "seconds" not in k and k not in COMPARED] == \
               [rb[k] for k in rb if "seconds" not in k and k not in COMPARED]  # epoch, evaluations
        for key in ("loss", "train_loss", "test_loss"):
            assert ra[key] == pytest.approx(rb[key], rel=1e-5)


# ----------------------------------------------------------------------------- gradient training
@pytest.mark.parametrize("name", ["exact", "shots", "loader", "resumed", "batchnorm"])
def test_both_ranks_end_with_identical_angles(gradient, name):
    assert_same_on_both_ranks(gradient[0], name)


@pytest.mark.parametrize("name", ["exact", "shots", "loader"])
def test_two_processes_equal_one_with_the_same_global_batch(gradient, name):
    ranks, one = gradient
    assert_close(ranks[0][name], one[name])
    assert len(one[name]["history"]) >= 2


def test_each_rank_trains_and_evaluates_on_its_part_of_the_data(gradient):
    ranks, one = gradient
    assert one["batch_sizes"] == [7, 7, 7, 7, 2, 30, 11] * 3  # steps, then the evaluation of the train and test data
    assert ranks[0]["batch_sizes"] == [4, 4, 4, 4, 1, 15, 6] * 3
    assert ranks[1]["batch_sizes"] == [3, 3, 3, 3, 1, 15, 5] * 3


def test_evaluation_is_sharded_and_all_reduced(gradient):
    (first, second), one = gradient
    assert (first["evaluation"]["seen"], second["evaluation"]["seen"], one["evaluation"]["seen"]) == (6, 5, 11)
    assert (first["evaluation"]["parts"], second["evaluation"]["parts"], one["evaluation"]["parts"]) == \
           ((6, 2), (5, 2), (11, 4))
    for key in ("examples", "accuracy"):
        assert first["evaluation"][key] == second["evaluation"][key] == one["evaluation"][key]
    assert first["evaluation"]["loss"] == second["evaluation"]["loss"] == pytest.approx(one["evaluation"]["loss"])
    limited = [r["loader_evaluation"] for r in (first, second, one)]
    assert [r["seen"] for r in limited] == [3, 2, 5] and [r["examples"] for r in limited] == [5, 5, 5]


def test_with_shots_both_ranks_draw_the_same_samples_as_one_process(gradient):
    ranks, one = gradient
    assert ranks[0]["shots"]["streams"] == one["shots"]["streams"]  # the same number of draws, in order


def test_a_resumed_two_process_run_equals_an_uninterrupted_one(gradient):
    ranks, _ = gradient
    straight, resumed = ranks[0]["straight"], ranks[0]["resumed"]
    assert [{k: r[k] for k in COMPARED} for r in resumed["history"]] == \
           [{k: r[k] for k in COMPARED} for r in straight["history"]]
    for a, b in zip(straight["params"], resumed["params"]):
        assert torch.equal(a, b)
    assert resumed["streams"] == straight["streams"]


def test_batchnorm_statistics_and_unseeded_starts_agree_across_ranks(gradient):
    first, second = (rank["batchnorm"]["buffers"] for rank in gradient[0])
    assert first.keys() == second.keys() and "target.1.running_mean" in first
    for key in first:
        assert torch.equal(first[key], second[key]), key


def test_only_rank_0_writes_and_reads_checkpoints(gradient):
    ranks, _ = gradient
    assert ranks[0]["files"] == ["c.pt"] and ranks[1]["files"] == []


def test_a_global_batch_without_an_example_per_process_is_refused(gradient):
    assert gradient[0][0]["error"] == gradient[0][1]["error"]
    assert "batch_size must be a size whose every global batch (the last one included) has an example for each " \
           "of the 2 processes; with 30 examples the smallest batch has 1, got 29" == gradient[0][0]["error"]


# ----------------------------------------------------------------------------- the paper schedule
@pytest.mark.parametrize("name", ["exact", "resumed", "shots"])
def test_schedule_ranks_end_identical(schedule, name):
    assert_same_on_both_ranks(schedule[0], name)


@pytest.mark.parametrize("name", ["exact", "shots"])
def test_schedule_on_two_processes_equals_one(schedule, name):
    ranks, one = schedule
    assert_close(ranks[0][name], one[name])


def test_rank_0_alone_runs_scipy(schedule):
    ranks, one = schedule
    assert ranks[0]["scipy_calls"] == one["scipy_calls"] > 0 and ranks[1]["scipy_calls"] == 0


def test_schedule_resumed_on_two_processes_equals_uninterrupted(schedule):
    ranks, _ = schedule
    resumed, exact = ranks[0]["resumed"]["history"], ranks[0]["exact"]["history"]
    assert [{k: r[k] for k in COMPARED} for r in resumed] == [{k: r[k] for k in COMPARED} for r in exact]
    assert [r["phi_evaluations"] for r in resumed] == [r["phi_evaluations"] for r in exact]
    assert ranks[0]["files"] == ["s.pt"] and ranks[1]["files"] == []


# ----------------------------------------------------------------------------- the CLI
def test_cli_rank_0_alone_prints_and_writes(cli):
    first = [rank["first"] for rank in cli]
    assert [r["status"] for r in first] == [0, 0] and all(r["group_left"] for r in first)
    summary = json.loads(first[0]["stdout"].strip().splitlines()[-1])
    assert summary["processes"] == 2 and summary["torch_threads"] == 1
    assert first[1]["stdout"] == ""
    assert cli[0]["files"] == ["run", "run/checkpoint.pt", "run/classical_model.pt", "run/summary.json"]
    assert cli[1]["files"] == []


def test_cli_error_found_by_rank_0_stops_both_ranks(cli):
    again = [rank["again"] for rank in cli]
    assert [r["status"] for r in again] == [2, 2]
    assert again[0]["stderr"].startswith("qt-pennylane: error: --out 'run' holds a finished run (summary.json)")
    assert again[1]["stderr"].startswith("qt-pennylane: error (rank 1): --out 'run' holds a finished run")


def test_cli_resumes_from_rank_0s_checkpoint(cli):
    resumed = [rank["resumed"] for rank in cli]
    assert [r["status"] for r in resumed] == [0, 0]
    assert json.loads(resumed[0]["stdout"].strip().splitlines()[-1])["processes"] == 2
    assert cli[0]["first"]["epochs"] == [1, 2, 3] and resumed[0]["epochs"] == [1, 2, 3, 4]
    assert resumed[1]["stdout"] == "" and cli[1]["files"] == []  # rank 1 never saw the checkpoint


# ----------------------------------------------------------------------------- one process: no group, checked arguments
def test_without_torchrun_nothing_is_distributed(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert distributed.setup() is False and distributed.world_size() == 1
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert distributed.setup() is False and not distributed.active()


def test_bad_environment_and_arguments_are_named(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "two")
    with pytest.raises(ValueError, match=r"the environment variable WORLD_SIZE must be an int, got 'two'"):
        distributed.setup()
    with pytest.raises(ValueError, match=r"backend must be None or a torch.distributed backend string"):
        distributed.setup(backend=3)
    with pytest.raises(ValueError, match=r"count must be a non-negative int, got -1"):
        distributed.part(-1)
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got 0"):
        distributed.ShardedBatches(4, 0, shuffle=True, seed=0)


def test_sharded_batches_on_one_process_are_fits_batches():
    data = blobs(23)
    sampler = distributed.ShardedBatches(23, 5, shuffle=True, seed=3)
    sampler.set_epoch(2)
    expected = DataLoader(data, batch_size=5, shuffle=True, generator=torch.Generator().manual_seed(3 * 1_000_003 + 2))
    for (x, y), (ex, ey) in zip(DataLoader(data, batch_sampler=sampler), expected, strict=True):
        assert torch.equal(x, ex) and torch.equal(y, ey)


def test_shots_a_device_draws_are_refused_when_data_parallel(monkeypatch):
    sampled_by_device = paper_model(shots=100, engine="qnode")
    distributed.check_shared_samples(sampled_by_device)  # one process: fine
    monkeypatch.setattr(distributed, "active", lambda: True)
    distributed.check_shared_samples(paper_model(shots=100))  # the engine's shots: one shared stream
    distributed.check_shared_samples(paper_model())
    with pytest.raises(ValueError, match=r"data-parallel training needs the same shots on every process, but the "
                                         r"probabilities come from qnode on device 'default.qubit'"):
        distributed.check_shared_samples(sampled_by_device)


def test_the_schedule_loss_over_batches_uses_one_sample_of_the_weights():
    from qt_pennylane.training.schedule import full_loss

    model = paper_model(shots=100)
    calls = []
    model.generator.register_forward_hook(lambda *_: calls.append(1))
    x, y = blobs(12).tensors
    batches = [(x[:6], y[:6]), (x[6:], y[6:])]
    loss = full_loss(model, batches, nn.CrossEntropyLoss())
    assert len(calls) == 1 and loss > 0  # one sample for both batches, as for one TensorDataset
