"""Data-parallel training on ``torch.distributed``: the process group, shards, DDP and the collectives.

Under ``torchrun`` (or any launcher that sets ``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR`` and
``MASTER_PORT``), :func:`~qt_pennylane.training.gradient.fit`,
:func:`~qt_pennylane.training.schedule.paper_schedule` and the CLI call :func:`setup`, which joins
the process group the environment describes (gloo for CPU tensors, NCCL for CUDA tensors). Every
rank then runs the same program on its own part of the data:

* the data: :class:`ShardedBatches` cuts each *global* batch of a seeded shuffle into one
  contiguous part per rank, so the global batches are those of one process; :func:`shard` gives
  a rank its contiguous part of a dataset (evaluation, the schedule's loss);
* the model: :func:`wrap` puts it in ``DistributedDataParallel``, which averages the gradients;
  the NaN placeholders where generated parameters sit are left out of DDP's synchronization;
* randomness: :func:`sync_model` gives every rank rank 0's parameters, buffers and shot-sampler
  streams; every rank then makes the same generator calls, so with shots all ranks draw the
  same samples (forward and parameter-shift backward) and use the same weights in a step;
* files and messages: rank 0 alone (:func:`is_main`); :func:`agreed` and :func:`from_main` turn a
  check that fails on one rank into the same error on every rank instead of a hang.

On one process every function here is a no-op or returns its input.

Example:
    >>> setup(), world_size(), rank(), is_main(), active()
    (False, 1, 0, True, False)
"""
from __future__ import annotations

import contextlib
import inspect
import os
import pickle

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, Sampler, Subset, TensorDataset

from .._validation import check_int, fail
from ..circuit.sampling import ShotSampler, random_states, restore_random_states


_NO_FORWARD_BUFFER_SYNC = ("forward_sync_buffers" if "forward_sync_buffers" in
                           inspect.signature(DistributedDataParallel.__init__).parameters else "broadcast_buffers")
"""DDP's option that stops the buffer broadcast before every forward pass (renamed in torch 2.13)."""


def setup(backend: str | None = None) -> bool:
    """Join the process group that ``torchrun`` describes in the environment; True when this call created it.

    Nothing happens on one process (``WORLD_SIZE`` unset or 1) or when a group exists already
    (one the caller made with ``torch.distributed.init_process_group``).

    Args:
        backend: ``None`` for gloo on CPU tensors and, where CUDA is available, NCCL on CUDA
            tensors (each rank then uses GPU ``LOCAL_RANK``); or a backend string of
            ``torch.distributed.init_process_group``.

    Raises:
        ValueError: ``WORLD_SIZE`` is not an int, or ``backend`` is not a string or ``None``.

    Example:
        >>> setup()   # one process: no group
        False
    """
    if backend is not None and not isinstance(backend, str):
        raise fail("backend", "None or a torch.distributed backend string such as 'gloo'", backend)
    if not dist.is_available() or dist.is_initialized():
        return False
    text = os.environ.get("WORLD_SIZE", "1")
    try:
        world = int(text)
    except ValueError:
        raise fail("the environment variable WORLD_SIZE", "an int", text) from None
    if world <= 1:
        return False
    cuda = torch.cuda.is_available()
    if cuda and "LOCAL_RANK" in os.environ:
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend or ("cpu:gloo,cuda:nccl" if cuda else "gloo"))
    return True


def shutdown() -> None:
    """Leave the process group (if any).

    Example:
        >>> shutdown()
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def world_size() -> int:
    """The number of processes (1 without a process group).

    Example:
        >>> world_size()
        1
    """
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This process's rank (0 without a process group).

    Example:
        >>> rank()
        0
    """
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """True on rank 0, the process that writes files, prints and shows progress.

    Example:
        >>> is_main()
        True
    """
    return rank() == 0


def active() -> bool:
    """True when training is data-parallel: a process group of more than one process.

    Example:
        >>> active()
        False
    """
    return world_size() > 1


def part(count: int) -> range:
    """This rank's contiguous part of ``range(count)``: parts differ by at most one, lower ranks take more.

    The parts are those of ``torch.tensor_split(torch.arange(count), world_size())``.

    Raises:
        ValueError: ``count`` is not a non-negative int.

    Example:
        >>> part(5)   # one process: everything
        range(0, 5)
    """
    check_int("count", count, minimum=0)
    base, extra = divmod(count, world_size())
    start = rank() * base + min(rank(), extra)
    return range(start, start + base + (rank() < extra))


def shard(data, count: int | None = None):
    """This rank's contiguous part of the first ``count`` examples of a map-style dataset.

    A ``TensorDataset``'s part is a ``TensorDataset`` of views of its tensors (one forward pass
    per rank); another ``Dataset``'s a ``Subset``. Any other iterable of batches is returned as it
    is: it is taken to be this rank's part already (a ``DataLoader`` with a ``DistributedSampler``).

    Args:
        data: a ``Dataset`` or an iterable of batches.
        count: use the first ``count`` examples (``None``: all).

    Example:
        >>> data = TensorDataset(torch.arange(6.0), torch.arange(6))
        >>> len(shard(data)), len(shard(data, count=4))   # one process: the whole (first count)
        (6, 4)
    """
    check_int("count", count, minimum=0, allow_none=True)
    if not (isinstance(data, Dataset) and hasattr(data, "__len__")) or (count is None and not active()):
        return data
    total = len(data) if count is None else min(count, len(data))
    indices = part(total)
    if isinstance(data, TensorDataset):
        return TensorDataset(*(t[indices.start : indices.stop] for t in data.tensors))
    return Subset(data, indices)


class ShardedBatches(Sampler):
    """This rank's part of every global batch of a dataset: the global batches of one process, split.

    The global batches of an epoch are the index batches of ``DataLoader(range(size), batch_size,
    shuffle, generator)`` with the generator seeded by ``seed * 1_000_003 + epoch``: a one-process
    ``DataLoader`` over the dataset with that generator gives the same batches. Each global batch
    is split into ``world_size()`` contiguous parts (:func:`part`'s sizes) and this rank gets its
    part. Unlike ``torch.utils.data.DistributedSampler``, nothing is repeated to even out the
    ranks and the global batch does not depend on the number of processes, so a run on W
    processes sees the batches of a run on one. Every part must hold an example: each global
    batch, the last one included, needs at least W examples.

    Use it as a ``DataLoader``'s ``batch_sampler``; call :meth:`set_epoch` before each epoch.

    Args:
        size: the dataset's length.
        batch_size: the global batch size.
        shuffle: shuffle per epoch (else the natural order).
        seed: seeds the shuffle.

    Raises:
        ValueError: a bad argument, naming it, or a global batch smaller than the number of processes.

    Example:
        >>> sampler = ShardedBatches(5, 2, shuffle=False, seed=0)
        >>> list(sampler), len(sampler), sampler.global_sizes()
        ([[0, 1], [2, 3], [4]], 3, [2, 2, 1])
    """

    def __init__(self, size: int, batch_size: int, *, shuffle: bool, seed: int):
        self.size = check_int("size", size, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.shuffle, self.seed, self.epoch = bool(shuffle), check_int("seed", seed, minimum=0), 0
        self.rank, self.world = rank(), world_size()
        smallest = min(self.batch_size, self.size % self.batch_size or self.batch_size)
        if smallest < self.world:
            raise fail("batch_size", f"a size whose every global batch (the last one included) has an example for "
                       f"each of the {self.world} processes; with {self.size} examples the smallest batch has "
                       f"{smallest}", batch_size)

    def set_epoch(self, epoch: int) -> None:
        """Use the shuffle of ``epoch``."""
        self.epoch = check_int("epoch", epoch, minimum=0)

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        batches = DataLoader(range(self.size), batch_size=self.batch_size, shuffle=self.shuffle, generator=generator)
        for batch in batches:
            yield batch.tensor_split(self.world)[self.rank].tolist()

    def __len__(self) -> int:
        return -(-self.size // self.batch_size)

    def global_sizes(self) -> list[int]:
        """The sizes of the global batches, in order (every epoch's)."""
        return [min(self.batch_size, self.size - start) for start in range(0, self.size, self.batch_size)]


def _device() -> torch.device:
    """Where collective tensors live: CPU under gloo, the current GPU under NCCL alone."""
    backend = str(dist.get_backend())
    return torch.device("cpu") if "gloo" in backend else torch.device("cuda", torch.cuda.current_device())


def all_reduce_sum(*values: float) -> tuple[float, ...]:
    """The sums of ``values`` over the ranks (float64; the values themselves on one process).

    Example:
        >>> all_reduce_sum(1.5, 2)
        (1.5, 2.0)
    """
    if not active():
        return tuple(float(v) for v in values)
    tensor = torch.tensor(values, dtype=torch.float64, device=_device())
    dist.all_reduce(tensor)
    return tuple(tensor.tolist())


def broadcast_object(value):
    """Rank 0's ``value`` on every rank (pickled; for small objects such as records and checkpoints).

    Example:
        >>> broadcast_object({"epoch": 1})
        {'epoch': 1}
    """
    if not active():
        return value
    box = [value]
    dist.broadcast_object_list(box, src=0, device=_device())
    return box[0]


def _sendable(error: BaseException) -> BaseException:
    """``error``, or a ``RuntimeError`` with its text where it does not survive pickling."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # any error type may fail to pickle or to rebuild
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


@contextlib.contextmanager
def agreed():
    """Run a block on every rank; if it raised on any rank, raise the lowest such rank's error on every rank.

    A check that fails on one rank only (a file rank 0 reads, a lock rank 0 takes) then stops
    every rank with the same message instead of leaving the others waiting in a collective.

    Example:
        >>> with agreed():
        ...     value = 1
        >>> value
        1
    """
    error = None
    try:
        yield
    except Exception as caught:  # any error of the block is shared, then raised
        if not active():
            raise
        error = caught
    if not active():
        return
    errors = [None] * world_size()
    dist.all_gather_object(errors, None if error is None else _sendable(error))
    first = next((e for e in errors if e is not None), None)
    if first is None:
        return
    if error is not None and errors.index(first) == rank():
        raise error
    raise first


def from_main(function):
    """``function()`` run on rank 0 only, its value given to every rank (its error raised on every rank).

    Example:
        >>> from_main(lambda: 42)
        42
    """
    value = None
    with agreed():
        if is_main():
            value = function()
    return broadcast_object(value)


def placeholders(model: nn.Module) -> list[str]:
    """Names (in ``model``) of the NaN placeholder buffers where a Quantum-Train model's generated parameters sit.

    They are zero-memory expanded tensors, rebuilt on every forward pass: DDP must neither
    broadcast nor check them.

    Example:
        >>> from qt_pennylane import QuantumTrainModel
        >>> placeholders(QuantumTrainModel(nn.Linear(2, 2), reps=1, seed=0))
        ['target.weight']
    """
    from ..model import QuantumTrainModel

    names = []
    for prefix, module in model.named_modules():
        if isinstance(module, QuantumTrainModel):
            head = f"{prefix}.target." if prefix else "target."
            names += [head + name for slot in module.slots for name in slot.names]
    return names


@torch.no_grad()
def _broadcast_tensors(tensors) -> None:
    device = _device()
    for tensor in tensors:
        buffer = tensor.detach().to(device).contiguous()
        dist.broadcast(buffer, src=0)
        tensor.copy_(buffer)


def sync_buffers(model: nn.Module) -> None:
    """Give every rank rank 0's buffers (BatchNorm statistics; placeholders left out).

    Example:
        >>> sync_buffers(nn.BatchNorm1d(2))   # one process: nothing to do
    """
    if not active():
        return
    skip = set(placeholders(model))
    _broadcast_tensors(b for name, b in model.named_buffers() if name not in skip)


def sync_model(model: nn.Module) -> None:
    """Give every rank rank 0's parameters, buffers and shot-sampler random streams.

    Afterwards every rank computes the same weights from the same calls, shots included.

    Example:
        >>> sync_model(nn.Linear(2, 2))   # one process: nothing to do
    """
    if not active():
        return
    _broadcast_tensors(model.parameters())
    sync_buffers(model)
    restore_random_states(model, broadcast_object(random_states(model)))


def check_shared_samples(model: nn.Module) -> None:
    """Refuse data-parallel training where the ranks cannot draw the same samples.

    Shots drawn by the engine's :class:`~qt_pennylane.circuit.sampling.ShotSampler` come from a
    random stream that :func:`sync_model` gives every rank; shots drawn by a device (a QNode with
    shots, real hardware) come from each rank's own device, so the ranks would train on different
    weights (and, on hardware, each queue its own jobs).

    Raises:
        ValueError: data-parallel, for a model whose probabilities a device samples.

    Example:
        >>> from qt_pennylane import QuantumTrainModel
        >>> check_shared_samples(QuantumTrainModel(nn.Linear(2, 2), reps=1, shots=100, seed=0))
    """
    from .registry import source_of

    source = source_of(model)
    if not active() or source is None or source.exact:
        return
    if not any(isinstance(m, ShotSampler) for m in source.modules()):
        raise ValueError(f"data-parallel training needs the same shots on every process, but the probabilities come "
                         f"from {source.description}, which samples on each process's own device; use the engine's "
                         "shots (device=None or a named statevector simulator with engine='auto') or one process")


def wrap(model: nn.Module, **ddp_options) -> nn.Module:
    """``model`` in ``DistributedDataParallel`` (after :func:`sync_model`), or ``model`` itself on one process.

    DDP averages the gradients over the ranks in the backward pass. The placeholders
    (:func:`placeholders`) are excluded from its synchronization. Buffers are rank 0's: DDP
    broadcasts them once here, and the training loop calls :func:`sync_buffers` before each
    evaluation and checkpoint, where running statistics are read, instead of DDP's broadcast
    before every forward pass (``forward_sync_buffers=False``: one synchronization less per step; in
    training BatchNorm normalizes with the batch's statistics and only writes its running ones).
    BatchNorm thus normalizes each rank's part of a batch with that part's statistics
    (``SyncBatchNorm`` is not used: torch runs it on GPU tensors only, and a generated BatchNorm
    weight is not a parameter it can take over).

    Args:
        model: the module to train (on the rank's device).
        **ddp_options: options of ``DistributedDataParallel`` (e.g. ``find_unused_parameters``,
            or ``forward_sync_buffers=True`` (before torch 2.13: ``broadcast_buffers=True``) for a
            module whose training forward reads buffers it updates).

    Example:
        >>> net = wrap(nn.Linear(2, 2))   # one process: the module itself
        >>> type(net).__name__
        'Linear'
    """
    if not active():
        return model
    sync_model(model)
    DistributedDataParallel._set_params_and_buffers_to_ignore_for_model(model, placeholders(model))
    return DistributedDataParallel(model, **{_NO_FORWARD_BUFFER_SYNC: False, **ddp_options})


def optimize_on_main(objective, start: np.ndarray, optimizer) -> np.ndarray:
    """Run ``optimizer(f, start)`` on rank 0 while every rank evaluates ``objective`` at the points it asks for.

    ``objective(x)`` must be collective: every rank calls it with the same ``x`` (it may sum a
    loss over the ranks' shards). Rank 0 broadcasts each point ``x`` as float64 before evaluating
    it; when ``optimizer`` returns its point, rank 0 broadcasts that too, and every rank returns it.

    Args:
        objective: ``x -> float``, collective.
        start: the first point (a flat float array).
        optimizer: ``(f, start) -> best point``, e.g. a call of ``scipy.optimize.minimize`` returning ``.x``;
            it runs on rank 0 only.

    Example:
        >>> optimize_on_main(lambda x: float((x**2).sum()), np.ones(2), lambda f, x0: x0 * 0.0)
        array([0., 0.])
    """
    if not active():
        return optimizer(objective, start)
    message = torch.empty(np.size(start) + 1, dtype=torch.float64, device=_device())
    if is_main():
        def evaluate_everywhere(x):
            message[0], message[1:] = 1.0, torch.as_tensor(np.asarray(x, dtype=np.float64))
            dist.broadcast(message, src=0)
            return objective(x)

        best = np.asarray(optimizer(evaluate_everywhere, start), dtype=np.float64)
        message[0], message[1:] = 0.0, torch.as_tensor(best)
        dist.broadcast(message, src=0)
        return best
    while True:
        dist.broadcast(message, src=0)
        point = message[1:].cpu().numpy().copy()
        if message[0] == 0:
            return point
        objective(point)
