"""Finite shots on the fast engine: probabilities estimated from samples, and their gradient.

:class:`ShotSampler` turns exact probabilities into the frequencies of ``shots`` samples drawn
from them, which is what a noiseless simulator with shots returns. Two kinds of shot noise:

* ``"fresh"`` (default): every evaluation draws new samples, as a quantum computer does
  (multinomial counts, drawn in time proportional to ``2^N``, not to ``shots``).
* ``"fixed"``: every evaluation reuses the same random numbers (inverse-CDF sampling with one
  fixed set of uniforms), as a simulator does when its sampling seed is fixed per run (Qiskit
  Aer's ``seed_simulator``). The estimate is then a deterministic, piecewise-constant function
  of the angles ("common random numbers"): a gradient-free optimizer is not misled by noise that
  changes between evaluations, and the exported weights are the ones it evaluated. Only a
  simulator can do this.

:func:`sampled_probabilities` runs the engine, samples, and differentiates with the
parameter-shift rule (each shifted circuit sampled with its own shots): an unbiased gradient
estimate, as on a device with shots.

Example:
    >>> sampler = ShotSampler(1000, seed=0)
    >>> freq = sampler(torch.tensor([0.5, 0.25, 0.25, 0.0]))
    >>> float(freq.sum()), float(freq[3]), bool(torch.all(freq * 1000 == (freq * 1000).round()))
    (1.0, 0.0, True)
"""
from __future__ import annotations

import copy
import math

import numpy as np
import torch
from torch import nn

SHOT_NOISE = ("fresh", "fixed")
"""Kinds of shot noise: new samples per evaluation, or the same random numbers every evaluation."""

CHUNK_AMPLITUDES = 2**18
"""Amplitudes per batch of shifted circuits: 2^18 (2 MiB of complex64 state) stays in cache, where
much larger batches are limited by memory bandwidth. At 8 qubits every shifted circuit fits in one batch."""


class ShotSampler(nn.Module):
    """Frequencies of ``shots`` samples of a probability vector.

    Args:
        shots: samples per evaluation (a positive int).
        noise: ``"fresh"`` or ``"fixed"`` (see the module docstring).
        seed: seeds the sampler's own random stream (``None``: drawn from torch's global RNG).

    The random stream is not part of ``state_dict()`` (trained angles load into exact and sampled
    models alike); checkpoints carry it through :func:`random_states` and
    :func:`restore_random_states`, so a resumed run draws the samples an uninterrupted one would.

    Raises:
        ValueError: for a bad ``shots``, ``noise`` or ``seed``, naming it and its value.
    """

    def __init__(self, shots: int, *, noise: str = "fresh", seed: int | None = None):
        super().__init__()
        if isinstance(shots, bool) or not isinstance(shots, int) or shots <= 0:
            raise ValueError(f"shots must be a positive int, got shots={shots!r}")
        if noise not in SHOT_NOISE:
            raise ValueError(f"shot_noise={noise!r} is not known; expected one of {list(SHOT_NOISE)}")
        if seed is None:
            seed = int(torch.randint(0, 2**62, (1,)))
        elif isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"seed must be an int or None, got seed={seed!r}")
        self.shots, self.noise = shots, noise
        self._rng = np.random.default_rng(seed)
        self._start = copy.deepcopy(self._rng.bit_generator.state)

    @torch.no_grad()
    def forward(self, probabilities: torch.Tensor) -> torch.Tensor:
        """Frequencies (``counts / shots``, same shape and dtype as ``probabilities``).

        A batch ``(..., 2**N)`` is sampled row by row in order, exactly as one call per row would be.
        """
        p = probabilities.detach().cpu().double().clamp_min(0).numpy()
        rows = p.reshape(-1, p.shape[-1])
        if self.noise == "fixed":
            counts = np.stack([self._fixed_counts(row) for row in rows]).reshape(p.shape)
        elif p.ndim == 1:  # counts directly: O(2^N) binomial draws, not O(shots)
            counts = self._rng.multinomial(self.shots, p / p.sum())
        else:  # the same draws as one call per row, without a Python loop
            counts = self._rng.multinomial(self.shots, rows / rows.sum(axis=1, keepdims=True)).reshape(p.shape)
        frequencies = torch.from_numpy(counts / self.shots)
        return frequencies.to(probabilities.dtype).to(probabilities.device)

    def _fixed_counts(self, p: np.ndarray) -> np.ndarray:
        """Inverse-CDF counts of one probability vector with the same uniforms every time."""
        self._rng.bit_generator.state = copy.deepcopy(self._start)
        cdf = np.cumsum(p)
        outcomes = np.searchsorted(cdf, self._rng.random(self.shots) * cdf[-1], side="right")
        return np.bincount(np.minimum(outcomes, p.size - 1), minlength=p.size)

    def random_state(self) -> dict:
        """The sampler's random stream: its current position and its start (for ``"fixed"``)."""
        return {"rng": copy.deepcopy(self._rng.bit_generator.state), "start": copy.deepcopy(self._start)}

    def set_random_state(self, state: dict) -> None:
        """Restore what :meth:`random_state` returned."""
        self._rng.bit_generator.state = copy.deepcopy(state["rng"])
        self._start = copy.deepcopy(state["start"])

    def extra_repr(self) -> str:
        return f"shots={self.shots}, noise={self.noise!r}"


def random_states(model: nn.Module) -> dict[str, dict]:
    """The random streams of every :class:`ShotSampler` inside ``model``, by module name."""
    return {name: module.random_state() for name, module in model.named_modules() if isinstance(module, ShotSampler)}


def restore_random_states(model: nn.Module, states: dict[str, dict]) -> None:
    """Put back the streams :func:`random_states` returned (a checkpoint of the same model)."""
    for name, state in states.items():
        model.get_submodule(name).set_random_state(state)


class _ParameterShift(torch.autograd.Function):
    """Sampled probabilities; backward by the two-term shift rule on sampled shifted circuits.

    Written for ``torch.func`` (``setup_context``): ``jacrev`` runs the backward over a batch of
    cotangents with one set of sampled shifted circuits. ``vmap`` over the angles is refused:
    each angle set would need its own samples.
    """

    @staticmethod
    def forward(phi, probabilities_of, sampler, batch_probabilities_of):
        return sampler(probabilities_of(phi.detach()))

    @staticmethod
    def setup_context(ctx, inputs, output):
        phi, probabilities_of, sampler, batch_probabilities_of = inputs
        ctx.save_for_backward(phi)
        ctx.probabilities_of, ctx.sampler, ctx.batch_probabilities_of = probabilities_of, sampler, batch_probabilities_of

    @staticmethod
    def backward(ctx, grad):
        (phi,) = ctx.saved_tensors
        with torch.no_grad():
            flat = phi.detach().reshape(-1)
            indices = torch.tensor(list(_shifted_indices(phi.shape)), dtype=torch.long, device=flat.device)
            # rows 2j and 2j + 1: angle indices[j] shifted by +π/2 and by -π/2
            rows = torch.arange(len(indices), device=flat.device)
            shifts = torch.zeros(2 * len(indices), flat.numel(), dtype=flat.dtype, device=flat.device)
            shifts[2 * rows, indices] = math.pi / 2
            shifts[2 * rows + 1, indices] = -math.pi / 2
            exact = _probabilities_in_chunks(flat + shifts, phi.shape, ctx.probabilities_of, ctx.batch_probabilities_of)
            sampled = ctx.sampler(exact)  # row by row in order: one random stream
            values = ((sampled[0::2] - sampled[1::2]) * grad).sum(dim=1) / 2
            out = torch.zeros(flat.numel(), dtype=values.dtype, device=values.device).index_copy(0, indices, values)
            return out.reshape(phi.shape), None, None, None

    @staticmethod
    def vmap(info, in_dims, *args):
        raise NotImplementedError(
            "vmap over sampled probabilities is not supported: each angle set needs its own shots; "
            "use shots=None (exact) or loop over the angle sets"
        )


def _probabilities_in_chunks(flat_phis: torch.Tensor, shape: torch.Size, probabilities_of, batch_probabilities_of):
    """Exact probabilities of every row of ``flat_phis``: in batches of :data:`CHUNK_AMPLITUDES` where possible."""
    phis = flat_phis.reshape(-1, *shape)
    if batch_probabilities_of is None:
        return torch.stack([probabilities_of(p) for p in phis])
    chunk = max(1, CHUNK_AMPLITUDES >> shape[-1])
    return torch.cat([batch_probabilities_of(phis[i : i + chunk]) for i in range(0, len(phis), chunk)])


def _shifted_indices(shape: torch.Size) -> range:
    """Flat indices of the angles that can change the probabilities: all but the final RZ layer.

    That layer is diagonal, so its exact derivative is zero: giving it zero is unbiased and
    costs no circuit runs.
    """
    layers, _, n_qubits = shape
    return range((layers - 1) * 2 * n_qubits + n_qubits)


def sampled_probabilities(phi: torch.Tensor, probabilities_of, sampler: ShotSampler,
                          batch_probabilities_of=None) -> torch.Tensor:
    """``sampler(probabilities_of(phi))``, differentiable in ``phi`` by the parameter-shift rule.

    Args:
        phi: angles of shape ``(reps + 1, 2, n_qubits)`` (EfficientSU2's RY/RZ gates, for which
            the shift rule with shift π/2 is exact).
        probabilities_of: exact probabilities as a function of angles (e.g. the engine's).
        sampler: a :class:`ShotSampler`.
        batch_probabilities_of: optional, the same for a batch of angle sets
            (``(batch, *phi.shape)`` → ``(batch, 2**n_qubits)``, e.g. the engine's
            ``batch_probabilities``); the shifted circuits then run as a few batches instead of
            one call each. The samples, and so the gradient, are the same either way.

    Example:
        >>> from qt_pennylane.circuit.engine import StatevectorEngine
        >>> phi = torch.zeros(2, 2, 2, requires_grad=True)
        >>> engine = StatevectorEngine(2, 1)
        >>> p = sampled_probabilities(phi, engine.probabilities, ShotSampler(100, seed=0), engine.batch_probabilities)
        >>> p[0].backward(); phi.grad.shape
        torch.Size([2, 2, 2])
    """
    return _ParameterShift.apply(phi, probabilities_of, sampler, batch_probabilities_of)
