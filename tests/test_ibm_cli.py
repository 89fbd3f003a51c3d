"""The CLI on IBM backends: --ibm-mode, --mitigate, --optimizer spsa, the estimate in the summary and --yes.

Offline: Aer and fake backends; real hardware is a monkeypatched QiskitRuntimeService.
"""
from __future__ import annotations

import json
import re
import warnings

import pytest

from qt_pennylane.cli import main
from qt_pennylane.devices import ibm

pytestmark = pytest.mark.qiskit

FAKE_TOKEN = "FAKE-TOKEN-5d20b6c1f7"
REMOTE = ["--device", "qiskit.remote", "--limit", "12"]


@pytest.fixture(autouse=True)
def quiet_qiskit():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        yield


def run_cli(capsys, *argv):
    assert main(["train", "--quiet", *argv]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _counts(record: dict) -> dict:
    return {key: record[key] for key in ("jobs", "circuits", "shots")}


def test_spsa_with_mitigation_in_a_batch_submits_what_was_estimated(capsys, tmp_path):
    summary = run_cli(capsys, *REMOTE, "--backend", "aer_simulator", "--shots", "64", "--ibm-mode", "batch",
                      "--mitigate", "--optimizer", "spsa", "--epochs", "2", "--eval-every", "1",
                      "--perturbation", "0.1", "--out", str(tmp_path))
    assert summary["ibm_mode"] == "batch" and summary["mitigate"] and summary["perturbation"] == 0.1
    assert summary["source"] == "SamplerV2 on backend 'aer_simulator' (batch mode, 64 shots, M3 readout mitigation)"
    estimate, submitted = summary["estimate"], summary["submitted"]
    assert _counts(estimate) == _counts(submitted) and estimate["exact"]
    # calibration, 2 SPSA steps, 2 evaluations, the final export
    assert submitted["jobs"] == 1 + 2 + 2 + 1 and submitted["calibration_jobs"] == 1
    assert json.loads((tmp_path / "summary.json").read_text())["submitted"] == submitted


def test_adam_one_job_per_step(capsys):
    summary = run_cli(capsys, *REMOTE, "--backend", "aer_simulator", "--shots", "32", "--ibm-mode", "job",
                      "--epochs", "2")
    # 2 gradient steps of 1 + 2·24 circuits; Iris evaluates every 100 epochs, so once at the end; the final export
    assert _counts(summary["submitted"]) == _counts(summary["estimate"]) == {
        "jobs": 2 + 1 + 1, "circuits": 2 * 49 + 2, "shots": (2 * 49 + 2) * 32}


@pytest.mark.parametrize("argv, match", [
    (["--ibm-mode", "batch"], r"--ibm-mode batch applies to --device qiskit\.remote, not --device None"),
    (["--device", "qiskit.remote", "--backend", "fake_manila", "--ibm-mode", "batch", "--engine", "qnode"],
     r"--engine qnode does not apply with --ibm-mode"),
    (["--device", "qiskit.remote", "--backend", "fake_manila", "--mitigate"], r"--mitigate applies to --ibm-mode"),
    (["--ibm-mode", "sessions"], r"argument --ibm-mode: invalid choice: 'sessions'"),
    (["--perturbation", "0.1"], r"--perturbation 0\.1 applies to --optimizer spsa, not --optimizer adam"),
    (["--optimizer", "spsa", "--lr-schedule", "constant"],
     r"--lr-schedule constant applies to gradient optimizers, not --optimizer spsa"),
    (["--optimizer", "spsa", "--periods", "2"], r"--periods 2 applies to --optimizer paper, not --optimizer spsa"),
    (["--optimizer", "paper", "--lr-decay", "0.5"], r"--lr-decay 0\.5 applies to --optimizer spsa, not --optimizer paper"),
    (["--optimizer", "spsa", "--lr-decay", "2"], r"lr_decay must be a finite number >= 0 <= 1, got 2\.0"),
])
def test_bad_options_end_in_one_line(capsys, argv, match):
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", *argv])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and len(err.strip().splitlines()) == 1 and re.search(match, err), err


def test_hardware_above_the_threshold_needs_yes(capsys, monkeypatch):
    import qiskit_ibm_runtime
    from qiskit_aer import AerSimulator

    class Service:
        def __init__(self, **kwargs):
            pass

        def backend(self, name):
            return AerSimulator()

    for var in (ibm.INSTANCE_ENV, ibm.CHANNEL_ENV):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(ibm.TOKEN_ENV, FAKE_TOKEN)
    monkeypatch.setattr(qiskit_ibm_runtime, "QiskitRuntimeService", Service)
    argv = [*REMOTE, "--backend", "ibm_fakeville", "--shots", "100000", "--ibm-mode", "session",
            "--optimizer", "spsa", "--epochs", "1"]
    with pytest.raises(SystemExit) as stop:
        main(["train", "--quiet", *argv])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and FAKE_TOKEN not in err
    assert re.search(r"this run would submit 3 jobs, 4 circuits, 400000 shots, about \d+ s of QPU time on backend "
                     r"'ibm_fakeville' \(session mode\), above the 60 s .*: pass --yes to run it", err), err
    summary = run_cli(capsys, *argv, "--yes")
    assert summary["estimate"]["hardware"] and _counts(summary["submitted"]) == _counts(summary["estimate"])


def test_pennylane_device_runs_are_built_first_and_estimated_too():
    """Without --ibm-mode, qiskit.remote runs PennyLane's device: one job per circuit, estimated before the model."""
    from qt_pennylane.cli import remote_source, run_plan
    from qt_pennylane.cli_options import build_parser, trainer_settings
    from qt_pennylane.devices.estimate import estimate_run
    from qt_pennylane.model import QuantumTrainModel
    from qt_pennylane.tasks import get_task

    args = build_parser().parse_args(["train", *REMOTE, "--backend", "fake_manila", "--shots", "32", "--reps", "0",
                                      "--optimizer", "spsa", "--epochs", "3"])
    source = remote_source(args, 5, 0, 32)
    assert source.description == "qnode on device 'qiskit.remote' (backend 'fake_manila') (parameter-shift)"
    task = get_task("iris")
    settings = trainer_settings(args, task.defaults)
    plan = run_plan(args, settings, task.load(limit=12)[0], lambda: QuantumTrainModel(
        task.build_model(), reps=0, generate="all", scale="none", mapping="paper", seed=0), source.phi.numel())
    assert estimate_run(source, plan).jobs == 3 * 2 + 1 + 1  # two circuits per SPSA step, one evaluation, the export
    args = build_parser().parse_args(["train", "--device", "default.qubit"])
    assert remote_source(args, 5, 0, None) is None
