"""Fast exact probabilities of the EfficientSU2 circuit, with exact gradients, in plain torch.

:class:`StatevectorEngine` simulates the circuit of :mod:`qt_pennylane.circuit.ansatz` (the single
source of truth) on a dense state vector a whole layer at a time instead of gate by gate. It
gives the same probabilities as the PennyLane QNode (wire 0 = most significant bit of the basis
index) and their exact gradient with respect to the angles; ``benchmarks/speed.py`` compares
it with ``default.qubit`` (43× faster forward + backward at 13 qubits and 26 repetitions in the
committed ``benchmarks/results/speed.json``).

The circuit, with ``L = reps`` and angles ``phi`` of shape ``(L + 1, 2, N)``::

    |ψ⟩ = V_L · P · V_{L-1} · P ··· P · V_0 |+⟩^{⊗N},      p_i = |⟨i|ψ⟩|²

    V_r = ⊗_q U_q(r),   U_q(r) = RZ(b) · RY(a) = [[e^{-ib/2} cos(a/2), -e^{-ib/2} sin(a/2)],
                                                   [e^{+ib/2} sin(a/2),  e^{+ib/2} cos(a/2)]]

with ``a = phi[r, 0, q]``, ``b = phi[r, 1, q]`` and ``P`` the CNOT layer
``ansatz.entangling_pairs(N, entanglement)``, a permutation of the basis states.

How it is computed:

* ``P`` is one index permutation, precomputed once: ``(Pψ)[i] = ψ[perm[i]]`` (a gather).
* The qubits are split into a few blocks of 3–5 qubits (:func:`block_sizes`). The Kronecker
  matrices ``K_b(r) = ⊗_{q ∈ b} U_q(r)`` (``2^k × 2^k``) of all blocks and layers are built
  in a handful of batched operations, so that ``V_r = K_1(r) ⊗ … ⊗ K_B(r)``.
* ``V_r`` is applied as one small matrix product per block: with the state viewed as a
  ``(2^N / 2^k, 2^k)`` matrix ``X`` whose columns index the last block, ``Y = K_b X^T`` is a
  ``(2^k, 2^N / 2^k)`` matrix with that block in front; after all blocks the original order
  is back. No per-gate Python, no transposition copies.
* Layer 0 acts on ``|+⟩^{⊗N}``: its output is the Kronecker product of the block vectors
  ``K_b(0) |+⟩^{⊗k}``. The final RZ layer is diagonal and cannot change probabilities: it is
  left out, and the gradient with respect to ``phi[L, 1, :]`` is exactly zero.
* Forward and backward are one :class:`torch.autograd.Function` (no autograd graph of small
  operations). With ``h = ∂loss/∂ψ = g ∘ conj(ψ)`` (``g = ∂loss/∂p``), a block step ``Y = K X^T``
  propagates ``h_X = h_Y^T K`` and gives ``C = ∂loss/∂K = h_Y X``; the gather's adjoint is the
  inverse permutation. From ``C`` and ``K`` (``s_q(i) = ±1`` for bit ``q`` of ``i`` being 0/1)::

      ∂loss/∂b_q = Σ_i s_q(i) · Im( Σ_j C[i, j] K[i, j] )            (RZ: K = diag(z) R)
      ∂loss/∂a_q = Σ_j s_q(j) · Re( (C^T K)[j, j ⊕ e_q] )             (dRY/da = RY · [[0,-1],[1,0]]/2)

* The states entering each block are kept from the forward pass when they fit in
  ``max_cache_bytes``; otherwise the backward pass recomputes them from the final state with
  ``X = Y^T conj(K)`` (``K`` is unitary), so memory stays at a few state vectors.

The dtype of ``phi`` decides the precision: ``float32`` computes in ``complex64``, ``float64``
in ``complex128``. The engine runs on the device of ``phi``.
"""
from __future__ import annotations

import torch
from torch import nn

from .._validation import check_int, check_positive_int, fail
from .ansatz import angle_shape, entangling_pairs

_COMPLEX = {torch.float32: torch.complex64, torch.float64: torch.complex128}

MEMORY_LIMIT = 8 * 2**30
"""The largest circuit the engine accepts, in bytes of its estimated memory (:func:`memory_bytes`): 8 GiB."""

DEFAULT_CACHE_BYTES = 2**30
"""The default ``max_cache_bytes`` of :class:`StatevectorEngine`."""


def block_sizes(n_qubits: int, dtype: torch.dtype = torch.float64) -> tuple[int, ...]:
    """How the qubits are grouped into blocks (wire 0 first), sizes as even as possible.

    Blocks of at most 4 qubits for ``float32``. For ``float64``, blocks of at least 4 qubits
    where ``n_qubits >= 4``: MKL's ``complex128`` products with 4 or 8 rows are slow.

    Example:
        >>> block_sizes(13, torch.float32), block_sizes(13, torch.float64)
        ((4, 3, 3, 3), (5, 4, 4))
    """
    if dtype == torch.float64:
        n_blocks = max(1, n_qubits // 4)
    else:
        n_blocks = -(-n_qubits // 4)
    base, extra = divmod(n_qubits, n_blocks)
    return tuple(base + 1 if i < extra else base for i in range(n_blocks))


def memory_bytes(n_qubits: int, reps: int, max_cache_bytes: int = DEFAULT_CACHE_BYTES) -> int:
    """An upper estimate of the engine's memory for one forward and backward pass, in bytes.

    Counted in ``complex128`` (the larger of the two precisions) with ``float64``'s blocks:
    the block matrices of every layer, ``(reps + 1) · Σ_b 4^k_b`` numbers, which the backward
    pass reuses; four state vectors of ``2^N`` amplitudes; the cached intermediate states,
    at most ``max_cache_bytes``; and the angles with their gradient and optimizer state.

    Example:
        >>> round(memory_bytes(13, 26) / 2**20, 1)   # the paper's MNIST circuit: MiB
        10.9
    """
    sizes = block_sizes(n_qubits, torch.float64)
    state = 16 << n_qubits
    per_layer = 16 * sum(4**k for k in sizes) + 4 * 8 * 2 * n_qubits
    cache = min(reps * len(sizes) * state, max_cache_bytes)
    return (reps + 1) * per_layer + 4 * state + cache


def check_circuit_size(n_qubits: int, reps: int, max_cache_bytes: int = DEFAULT_CACHE_BYTES) -> None:
    """Refuse a circuit whose :func:`memory_bytes` exceed :data:`MEMORY_LIMIT`, before anything is allocated.

    Raises:
        ValueError: naming ``n_qubits`` (when even ``reps = 0`` does not fit) or ``reps``, with the
            largest value that fits.

    Example:
        >>> check_circuit_size(8, 10**9)
        Traceback (most recent call last):
        ...
        ValueError: reps must be an int <= 863530 on 8 qubits (the engine's memory limit is 8 GiB; reps=1000000000 needs about 8107.2 GiB), got 1000000000
    """
    limit = f"the engine's memory limit is {MEMORY_LIMIT / 2**30:g} GiB"
    if memory_bytes(n_qubits, 0, max_cache_bytes) > MEMORY_LIMIT:
        largest = max(n for n in range(1, n_qubits) if memory_bytes(n, 0, max_cache_bytes) <= MEMORY_LIMIT)
        raise fail("n_qubits", f"an int <= {largest} ({limit}; a state of 2**{n_qubits} amplitudes needs about "
                               f"{memory_bytes(n_qubits, 0, max_cache_bytes) / 2**30:.1f} GiB)", n_qubits)
    needed = memory_bytes(n_qubits, reps, max_cache_bytes)
    if needed > MEMORY_LIMIT:
        low, high = 0, reps  # the largest reps that fits: memory_bytes grows with reps
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if memory_bytes(n_qubits, middle, max_cache_bytes) <= MEMORY_LIMIT \
                else (low, middle - 1)
        raise fail("reps", f"an int <= {low} on {n_qubits} qubits ({limit}; reps={reps} needs about "
                           f"{needed / 2**30:.1f} GiB)", reps)


def cnot_permutation(n_qubits: int, entanglement: str = "reverse_linear") -> torch.Tensor:
    """The CNOT layer as a gather index: ``(CNOT-layer ψ)[i] = ψ[perm[i]]`` (PennyLane bit order).

    Example:
        >>> cnot_permutation(2).tolist()   # CNOT(0, 1) swaps |10⟩ and |11⟩
        [0, 1, 3, 2]
    """
    index = torch.arange(2**n_qubits)
    image = index.clone()  # image[i]: where basis state i goes
    for control, target in entangling_pairs(n_qubits, entanglement):
        control_bit, target_bit = n_qubits - 1 - control, n_qubits - 1 - target
        image ^= ((image >> control_bit) & 1) << target_bit
    perm = torch.empty_like(index)
    perm[image] = index
    return perm


class _Group:
    """Blocks of one size ``k``: their qubits and the constants of the gradient formulas."""

    def __init__(self, k: int, qubits: list[int], device, dtype):
        d = 1 << k
        self.k, self.d, self.n_blocks = k, d, len(qubits) // k
        self.qubits = torch.tensor(qubits, device=device)  # (n_blocks * k,), block by block
        j = torch.arange(d, device=device)
        bit = torch.tensor([k - 1 - q for q in range(k)], device=device)  # qubit q ↔ bit k-1-q
        self.signs = (1 - 2 * ((j[:, None] >> bit[None, :]) & 1)).to(dtype)  # (d, k): s_q(j)
        self.flip = (j[None, :] * d + (j[None, :] ^ (1 << bit[:, None]))).reshape(-1)  # (k*d,)


def _plan(sizes: tuple[int, ...], device, dtype) -> tuple[list[_Group], list[tuple[int, int]]]:
    """Groups of equal-sized blocks, and for each block its (group, index in group)."""
    groups, where, start = {}, [], 0
    for k in sizes:
        qubits, count = groups.setdefault(k, ([], [0]))
        where.append((k, count[0]))
        qubits.extend(range(start, start + k))
        count[0] += 1
        start += k
    made = {k: _Group(k, qubits, device, dtype) for k, (qubits, _) in groups.items()}
    order = list(made)
    return [made[k] for k in order], [(order.index(k), i) for k, i in where]


def _block_matrices(phi: torch.Tensor, groups: list[_Group]) -> list[torch.Tensor]:
    """``K_b(r)`` for every group: ``(..., L + 1, n_blocks, 2^k, 2^k)``; the last layer without RZ.

    ``phi`` has shape ``(..., L + 1, 2, N)``: leading dimensions are a batch of angle sets.
    """
    half = phi / 2
    cos, sin = torch.cos(half[..., 0, :]), torch.sin(half[..., 0, :])
    b = half[..., 1, :].clone()
    b[..., -1, :] = 0
    phase = torch.polar(torch.ones_like(b), -b)  # e^{-ib/2}
    u = torch.stack([phase * cos, -phase * sin, phase.conj() * sin, phase.conj() * cos], dim=-1)
    lead = u.shape[:-2]
    mats = []
    for g in groups:
        ug = u[..., g.qubits, :].view(*lead, g.n_blocks, g.k, 2, 2)
        m = ug[..., 0, :, :]
        for q in range(1, g.k):
            d = m.shape[-1]
            m = (m[..., :, None, :, None] * ug[..., q, None, :, None, :]).reshape(*lead, g.n_blocks, 2 * d, 2 * d)
        mats.append(m)
    return mats


class _Plan:
    """The constants of one engine for one dtype and device: blocks, groups and the CNOT permutation."""

    def __init__(self, n_qubits: int, perm, inv_perm, dtype, device):
        self.sizes = block_sizes(n_qubits, dtype)
        self.groups, self.where = _plan(self.sizes, device, dtype)
        self.perm, self.inv_perm = perm, inv_perm
        order = torch.cat([g.qubits for g in self.groups])  # the qubits, group by group
        self.unorder = torch.argsort(order)  # back to qubit order 0 .. N-1


def _split_blocks(mats: list[torch.Tensor], plan: _Plan) -> list[list[torch.Tensor]]:
    """``blocks[r][b]``: the ``2^k × 2^k`` matrix ``K_b(r)`` of block ``b`` in layer ``r`` (views)."""
    flat = [m.reshape(-1, *m.shape[-2:]).unbind(0) for m in mats]  # one view per (layer, block)
    n_layers = mats[0].shape[-4]
    return [[flat[gi][r * mats[gi].shape[-3] + i] for gi, i in plan.where] for r in range(n_layers)]


class _Saved:
    """Where the forward pass leaves what the backward pass reuses: the block matrices and, when
    they fit in memory (``cache``), the states entering each block.

    An object rather than a list or dict, so that ``torch.func`` passes it through untouched (a
    container would be flattened as a pytree and rebuilt).
    """

    def __init__(self, cache: bool):
        self.cache = cache
        self.mats: list[torch.Tensor] | None = None
        self.states: list[torch.Tensor] = []


class _Circuit(torch.autograd.Function):
    """phi ↦ probabilities, with the hand-written backward described in the module docstring.

    Written for ``torch.func``: ``forward`` takes no ``ctx``; the final state and (when cached)
    the states entering each block are returned as extra, non-differentiable outputs, and
    ``backward`` uses only out-of-place tensor operations, so ``vmap`` can batch it
    (``generate_vmap_rule``) and ``jacrev`` can run it over a batch of cotangents.
    """

    generate_vmap_rule = True

    @staticmethod
    def forward(phi, plan, store):
        mats = _block_matrices(phi, plan.groups)
        blocks = _split_blocks(mats, plan)
        sizes, dim = plan.sizes, 1 << sum(plan.sizes)
        cache = store is not None and store.cache
        saved = store.states if cache else []
        if store is not None:
            store.mats = mats
        vecs = [k_mat.sum(dim=1) * k_mat.shape[1] ** -0.5 for k_mat in blocks[0]]  # K_b(0) |+>^k
        state = vecs[0]
        for vec in vecs[1:]:  # layer 0 acts on |+>^N: a Kronecker product of vectors
            state = torch.outer(state, vec).reshape(-1)
        for layer in blocks[1:]:
            if plan.perm is not None:
                state = torch.index_select(state, 0, plan.perm)
            for b in reversed(range(len(sizes))):
                d = 1 << sizes[b]
                if cache:
                    saved.append(state)
                state = torch.mm(layer[b], state.view(dim // d, d).T).reshape(-1)
        return torch.view_as_real(state).square().sum(dim=-1), state

    @staticmethod
    def setup_context(ctx, inputs, output):
        phi, plan, store = inputs
        _, state = output
        ctx.mark_non_differentiable(state)
        ctx.set_materialize_grads(False)  # no zero gradient for the extra output
        ctx.save_for_backward(phi, state)
        ctx.plan, ctx.store = plan, store

    @staticmethod
    def backward(ctx, grad, unused):
        if grad is None:  # the probabilities did not reach the loss
            return None, None, None
        with torch.no_grad():  # once differentiable: second derivatives fail loudly, not silently wrong
            return _Circuit._backward(ctx, grad), None, None

    @staticmethod
    def _backward(ctx, grad):
        phi, state = ctx.saved_tensors
        plan, store = ctx.plan, ctx.store
        sizes, groups = plan.sizes, plan.groups
        if store is None:  # the forward ran without grad (e.g. under jacrev's outer level): recompute
            store = _Saved(cache=False)
        saved = store.states
        mats = store.mats if store.mats is not None else _block_matrices(phi, groups)
        blocks = _split_blocks(mats, plan)
        dim, n_blocks, n_layers = state.shape[-1], len(sizes), len(blocks)
        h = grad * state.conj()  # ∂loss/∂ψ for p = |ψ|² (the conjugate of torch's gradient)
        dblocks = [[None] * n_blocks for _ in range(n_layers)]  # C = ∂loss/∂K
        i = len(saved)
        for r in reversed(range(1, n_layers)):
            for b in range(n_blocks):  # the forward pass went through the blocks last to first
                d, k_mat = 1 << sizes[b], blocks[r][b]
                h_out = h.reshape(d, dim // d)
                if store.cache:
                    i -= 1
                    state = saved[i]
                else:  # uncompute: X = Y^T conj(K)
                    state = torch.mm(state.reshape(d, dim // d).T, k_mat.conj()).reshape(-1)
                dblocks[r][b] = torch.mm(h_out, state.reshape(dim // d, d))
                h = torch.mm(h_out.T, k_mat).reshape(-1)
            if plan.inv_perm is not None:
                h = torch.index_select(h, 0, plan.inv_perm)
                if not store.cache:
                    state = torch.index_select(state, 0, plan.inv_perm)
        # layer 0: ψ0 = ⊗_b v_b with v_b = K_b(0)|+>^k, so C_b(0)[i, j] = (∂loss/∂v_b)[i] / sqrt(2^k)
        vecs = [k_mat.sum(dim=1) * k_mat.shape[1] ** -0.5 for k_mat in blocks[0]]
        h0 = h.reshape([1 << k for k in sizes])
        letters = "abcdefghijklmnopqrstuvwxyz"[:n_blocks]
        for b, vec in enumerate(vecs):
            others = [letters[o] for o in range(n_blocks) if o != b]
            spec = f"{letters},{','.join(others)}->{letters[b]}" if others else f"{letters}->{letters}"
            g_vec = torch.einsum(spec, h0, *[v for o, v in enumerate(vecs) if o != b])
            dblocks[0][b] = (g_vec * vec.shape[0] ** -0.5)[:, None].expand(-1, vec.shape[0])
        da_parts, db_parts = [], []
        for gi, (g, m) in enumerate(zip(groups, mats)):
            members = [b for b, (group, _) in enumerate(plan.where) if group == gi]
            c = torch.stack([torch.stack([dblocks[r][b] for b in members]) for r in range(n_layers)])
            db = (c * m).sum(dim=-1).imag @ g.signs  # (L+1, nb, k)
            cm = torch.matmul(c.transpose(-1, -2), m).reshape(n_layers, g.n_blocks, g.d * g.d)
            da = (cm[:, :, g.flip].real.reshape(n_layers, g.n_blocks, g.k, g.d) * g.signs.T).sum(dim=-1)
            da_parts.append(da.reshape(n_layers, -1))
            db_parts.append(db.reshape(n_layers, -1))
        da = torch.cat(da_parts, dim=-1)[:, plan.unorder]
        db = torch.cat(db_parts, dim=-1)[:, plan.unorder]
        keep = torch.ones(n_layers, 1, dtype=db.dtype, device=db.device)
        keep[-1] = 0  # the final RZ layer does not act on probabilities
        return torch.stack([da, db * keep], dim=1).to(phi.dtype)


class StatevectorEngine(nn.Module):
    r"""Exact probabilities of Hadamards + EfficientSU2 (:mod:`qt_pennylane.circuit.ansatz`), differentiable.

    Computes :math:`p_i = |\langle i|\psi(\phi)\rangle|^2` for
    :math:`|\psi\rangle = V_L P V_{L-1} \cdots P V_0 H^{\otimes N}|0\rangle`, where
    :math:`V_r = \bigotimes_q RZ(\phi_{r,1,q})\,RY(\phi_{r,0,q})` and :math:`P` is the CNOT layer,
    in PennyLane's order (wire 0 = most significant bit). The module docstring gives the method
    and the gradient formulas. The engine holds no parameters: the angles are an argument and
    gradients flow to their owner. Its index tensors are non-persistent buffers (not in
    ``state_dict``); ``.to(device)`` moves them, and they follow ``phi``'s device anyway.

    Args:
        n_qubits: number of qubits N (≥ 1).
        reps: EfficientSU2 repetitions L (≥ 0); the angles have shape ``(reps + 1, 2, n_qubits)``.
        entanglement: a key of :data:`qt_pennylane.circuit.ansatz.ENTANGLEMENTS`.
        max_cache_bytes: the backward pass reuses the forward pass's intermediate states when
            they fit in this many bytes (``reps × len(block_sizes(n_qubits))`` state vectors),
            else it recomputes them backwards from the final state (memory of a few state
            vectors; ~15 % slower at 13 qubits, as fast at 20 where memory bandwidth dominates).

    Raises:
        ValueError: for a bad argument, naming it and its value; a circuit beyond the engine's
            memory limit (:func:`check_circuit_size`), before anything is allocated.

    Example:
        >>> engine = StatevectorEngine(3, reps=2)
        >>> phi = torch.zeros(3, 2, 3, dtype=torch.float64, requires_grad=True)
        >>> p = engine.probabilities(phi)          # all angles 0: H|0>, then CNOTs
        >>> p.shape, round(p.sum().item(), 12)
        (torch.Size([8]), 1.0)
        >>> p[0].backward(); phi.grad.shape
        torch.Size([3, 2, 3])
    """

    def __init__(
        self,
        n_qubits: int,
        reps: int,
        entanglement: str = "reverse_linear",
        *,
        max_cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        super().__init__()
        check_positive_int("n_qubits", n_qubits)
        check_int("reps", reps, minimum=0)
        check_int("max_cache_bytes", max_cache_bytes, minimum=0)
        check_circuit_size(n_qubits, reps, max_cache_bytes)
        perm = cnot_permutation(n_qubits, entanglement)  # validates entanglement
        self.n_qubits, self.reps, self.entanglement = n_qubits, reps, entanglement
        self.max_cache_bytes = max_cache_bytes
        self.identity_permutation = bool((perm == torch.arange(perm.numel())).all())
        self.register_buffer("perm", perm, persistent=False)
        self.register_buffer("inv_perm", torch.argsort(perm), persistent=False)
        self._plans = {}  # (dtype, device) -> _Plan: small constants

    @property
    def shape(self) -> tuple[int, int, int]:
        """The shape ``phi`` must have: ``(reps + 1, 2, n_qubits)``."""
        return angle_shape(self.n_qubits, self.reps)

    @staticmethod
    def _check_dtype(phi: torch.Tensor) -> None:
        if phi.dtype not in _COMPLEX:
            raise ValueError(f"phi must have dtype torch.float32 or torch.float64, got {phi.dtype}")

    def _plan_for(self, phi: torch.Tensor) -> _Plan:
        """The constants for ``phi``'s dtype and device, built once."""
        key = (phi.dtype, phi.device)
        if key not in self._plans:
            perm = inv_perm = None
            if not self.identity_permutation:
                perm, inv_perm = self.perm.to(phi.device), self.inv_perm.to(phi.device)
            self._plans[key] = _Plan(self.n_qubits, perm, inv_perm, phi.dtype, phi.device)
        return self._plans[key]

    def probabilities(self, phi: torch.Tensor) -> torch.Tensor:
        """The ``2**n_qubits`` probabilities for angles ``phi`` (PennyLane order), differentiable in ``phi``.

        Args:
            phi: float32 or float64 angles of shape ``(reps + 1, 2, n_qubits)``; ``phi[r, 0, q]`` is
                the RY angle and ``phi[r, 1, q]`` the RZ angle of qubit ``q`` in rotation layer ``r``.

        Returns:
            A tensor of shape ``(2**n_qubits,)`` with the dtype and device of ``phi``.

        Raises:
            ValueError: if ``phi`` is not a float32/float64 tensor of the right shape.
        """
        if not isinstance(phi, torch.Tensor):
            raise ValueError(f"phi must be a torch.Tensor, got {type(phi).__name__}")
        if tuple(phi.shape) != self.shape:
            raise ValueError(
                f"phi must have shape (reps + 1, 2, n_qubits) = {self.shape}, got {tuple(phi.shape)}"
            )
        self._check_dtype(phi)
        plan = self._plan_for(phi)
        itemsize = 2 * phi.element_size()
        cache_bytes = self.reps * len(plan.sizes) * (1 << self.n_qubits) * itemsize
        needs_grad = phi.requires_grad and torch.is_grad_enabled()
        store = _Saved(cache=cache_bytes <= self.max_cache_bytes) if needs_grad else None
        return _Circuit.apply(phi, plan, store)[0]

    @torch.no_grad()
    def batch_probabilities(self, phis: torch.Tensor) -> torch.Tensor:
        """Probabilities for a batch of angle sets at once, without gradient.

        One pass of batched matrix products instead of one call per angle set: what the
        parameter-shift rule needs (two shifted circuits per angle).

        Args:
            phis: float32 or float64 angles of shape ``(batch, reps + 1, 2, n_qubits)``.

        Returns:
            A tensor of shape ``(batch, 2**n_qubits)``; row ``i`` equals ``probabilities(phis[i])``.

        Example:
            >>> engine = StatevectorEngine(2, reps=1)
            >>> phis = torch.rand(5, 2, 2, 2, dtype=torch.float64)
            >>> torch.allclose(engine.batch_probabilities(phis)[3], engine.probabilities(phis[3]))
            True
        """
        if not isinstance(phis, torch.Tensor) or phis.dim() != 4 or tuple(phis.shape[1:]) != self.shape:
            shape = tuple(phis.shape) if isinstance(phis, torch.Tensor) else type(phis).__name__
            raise ValueError(f"phis must have shape (batch, reps + 1, 2, n_qubits) = (batch, *{self.shape}), got {shape}")
        self._check_dtype(phis)
        plan = self._plan_for(phis)
        sizes, where = plan.sizes, plan.where
        batch, dim = phis.shape[0], 1 << self.n_qubits
        mats = _block_matrices(phis, plan.groups)  # each (batch, L + 1, n_blocks, 2^k, 2^k)
        state = None
        for gi, i in where:  # layer 0 on |+>^N: a Kronecker product of the block vectors
            k_mat = mats[gi][:, 0, i]
            vec = k_mat.sum(dim=-1) * k_mat.shape[-1] ** -0.5
            state = vec if state is None else (state[:, :, None] * vec[:, None, :]).reshape(batch, -1)
        for r in range(1, self.reps + 1):
            if plan.perm is not None:
                state = torch.index_select(state, 1, plan.perm)
            for b in reversed(range(len(sizes))):
                d = 1 << sizes[b]
                gi, i = where[b]
                state = torch.bmm(mats[gi][:, r, i], state.view(batch, dim // d, d).transpose(1, 2)).reshape(batch, -1)
        return torch.view_as_real(state).square().sum(dim=-1)

    def forward(self, phi: torch.Tensor) -> torch.Tensor:
        """Same as :meth:`probabilities`."""
        return self.probabilities(phi)

    def extra_repr(self) -> str:
        return f"n_qubits={self.n_qubits}, reps={self.reps}, entanglement={self.entanglement!r}"
