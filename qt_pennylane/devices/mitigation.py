"""Readout-error mitigation of measured distributions with M3 (``mthree``, Qiskit's matrix-free mitigation).

Quantum-Train reads whole probability distributions, and readout errors bias them directly:
a qubit read as 1 when it was 0 moves probability between basis states. M3 (Nation et al.,
PRX Quantum 2, 040326, 2021) models readout as independent per-qubit 2×2 assignment matrices,
measured once by calibration circuits, and solves ``A p_mitigated = p_measured`` in the
subspace of the bit strings that were observed (within a Hamming distance), which is cheap even
for many qubits. The quasi-probabilities it returns are projected onto the nearest probability
distribution.

Calibration runs once per mitigator (``method="balanced"``: Hadamard-generated circuits, the
same for hardware and fake backends; :func:`calibration_size` says what it costs) and is reused
for every later distribution of the run.

Example:
    >>> calibration_size(8, shots=4000)
    {'jobs': 1, 'circuits': 16, 'shots': 8000}
"""
from __future__ import annotations

import math

import numpy as np

from .._validation import check_positive_int
from .ibm import import_optional

MITIGATION_EXTRA_HINT = "pip install 'qt_pennylane[qiskit]' (it includes mthree)"

CALIBRATION_SHOTS = 10_000
"""M3's own default calibration shots (``min(max_shots, 10000)``)."""


def _hadamard_length(n_qubits: int) -> int:
    generators = import_optional("mthree.generators", "readout mitigation", MITIGATION_EXTRA_HINT)
    return generators.HadamardGenerator(n_qubits).length


def calibration_size(n_qubits: int, shots: int = CALIBRATION_SHOTS) -> dict[str, int]:
    """Jobs, circuits and shots of M3's balanced calibration of ``n_qubits`` measured qubits.

    M3 runs ``length`` Hadamard-generated circuits (``length`` from ``mthree.generators.HadamardGenerator``),
    each with ``ceil(2 · shots / length)`` shots, as one job.
    """
    n_qubits = check_positive_int("n_qubits", n_qubits)
    shots = check_positive_int("calibration_shots", shots)
    length = _hadamard_length(n_qubits)
    return {"jobs": 1, "circuits": length, "shots": math.ceil(2 * shots / length) * length}


class ReadoutMitigator:
    """M3 readout mitigation on one backend, calibrated once on the measured physical qubits.

    Args:
        backend: the Qiskit backend the circuits run on (a fake backend mitigates its simulated
            readout errors).
        shots: calibration shots (M3's ``shots``; the balanced method spends twice that in all).

    Example:
        >>> from qiskit_ibm_runtime.fake_provider import FakeManilaV2
        >>> mitigator = ReadoutMitigator(FakeManilaV2(), shots=2000)
        >>> mitigator.calibrate([0, 1])
        {'jobs': 1, 'circuits': 4, 'shots': 4000}
        >>> rows = mitigator.apply([{"00": 90, "01": 10}], {0: 0, 1: 1}, n_bits=2)
        >>> rows.shape, float(rows.sum())
        ((1, 4), 1.0)
    """

    def __init__(self, backend, *, shots: int = CALIBRATION_SHOTS):
        self.shots = check_positive_int("calibration_shots", shots)
        mthree = import_optional("mthree", "readout mitigation", MITIGATION_EXTRA_HINT)
        self._m3 = mthree.M3Mitigation(backend)
        self.qubits: tuple[int, ...] | None = None

    @property
    def calibrated(self) -> bool:
        """Calibration data are there (they are reused for the rest of the run)."""
        return self.qubits is not None

    def calibrate(self, qubits, runtime_mode=None) -> dict[str, int]:
        """Measure the assignment matrices of the physical ``qubits``, once; return what that submitted.

        Args:
            qubits: the physical qubits measured (each distinct).
            runtime_mode: the ``Session`` / ``Batch`` to run the calibration job in on IBM hardware.

        Returns:
            ``{"jobs", "circuits", "shots"}`` counted from the calibration results (zeros when
            already calibrated on these qubits).
        """
        qubits = tuple(int(q) for q in qubits)
        if self.qubits is not None and set(qubits) <= set(self.qubits):
            return {"jobs": 0, "circuits": 0, "shots": 0}
        jobs = self._m3.cals_from_system(qubits=list(qubits), shots=self.shots, method="balanced",
                                         async_cal=False, runtime_mode=runtime_mode)
        counts = []
        for job in jobs:
            found = job.result().get_counts()
            counts.extend(found if isinstance(found, list) else [found])
        self.qubits = qubits
        return {"jobs": len(jobs), "circuits": len(counts), "shots": int(sum(sum(c.values()) for c in counts))}

    def apply(self, counts: list[dict[str, int]], mapping: dict[int, int], n_bits: int) -> np.ndarray:
        """Mitigated probabilities, one row per counts dict, indexed by the bit string read as an integer.

        Args:
            counts: one ``{bitstring: count}`` per circuit.
            mapping: ``{classical bit: physical qubit}`` of the measurements.
            n_bits: the number of classical bits (row length ``2**n_bits``).

        Returns:
            ``(len(counts), 2**n_bits)`` float64 probabilities (each row sums to 1).

        Call :meth:`calibrate` first.
        """
        quasi = self._m3.apply_correction(counts, [mapping] * len(counts))
        rows = np.zeros((len(counts), 2**n_bits))
        for row, distribution in zip(rows, quasi.nearest_probability_distribution()):
            for bits, value in distribution.items():
                row[int(bits, 2)] = value
        return rows / rows.sum(axis=1, keepdims=True)
