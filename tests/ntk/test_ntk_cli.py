"""``qt-pennylane ntk``: one JSON line; every user error one ``qt-pennylane: error:`` line, exit code 2."""
import json

import pytest

from qt_pennylane.cli import main


def test_ntk_prints_one_json_line(mnist_root, capsys):
    assert main(["ntk", "--digits", "8,9", "--n", "16", "--kernel", "fc-erf", "--trials", "2", "--seed", "3",
                 "--test-size", "16", "--data-root", str(mnist_root)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["n"] == 16 and summary["trials"] == 2 and summary["seed"] == 3
    assert {"accuracy_exact", "accuracy_sparse", "accuracy_diagonal", "kappa", "readout_cost_sparse"} <= set(summary)


@pytest.mark.parametrize("args, message", [
    (["--digits", "8,8"], "--digits: digits='8,8' must be two distinct digits"),
    (["--digits", "8"], "--digits: digits='8' must be two distinct digits"),
    (["--n", "7"], "--n: n=7 must be a positive even integer of at most 80"),
    (["--n", "1000"], "--n: n=1000 must be a positive even integer of at most 80"),
    (["--n", "many"], "--n: expected an integer, got 'many'"),
    (["--kernel", "rbf"], "--kernel: kernel='rbf' is not known; expected one of ['cnn-relu', 'fc-erf']"),
    (["--trials", "0"], "--trials: trials=0 must be a positive integer"),
    (["--test-size", "999"], "--test-size: test_size=999 must be a positive even integer of at most 40"),
    (["--solver", "qr"], "--solver: solver='qr' must be one of ['cg', 'splu']"),
    (["--kernel", "cnn-relu", "--depth", "5"], "--depth: depth=5 must be a positive multiple of 3"),
])
def test_bad_input_gives_one_error_line_and_exit_code_2(mnist_root, capsys, args, message):
    with pytest.raises(SystemExit) as stop:
        main(["ntk", "--n", "16", "--test-size", "16", *args, "--data-root", str(mnist_root)])
    assert stop.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"qt-pennylane: error: {message}")
    assert captured.err.count("\n") == 1 and captured.err.endswith("\n")


def test_missing_data_is_one_error_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["ntk", "--n", "16", "--data-root", str(tmp_path)])
    captured = capsys.readouterr()
    assert stop.value.code == 2 and captured.out == ""
    assert captured.err.startswith("qt-pennylane: error: mnist train data not found") and captured.err.count("\n") == 1
