"""Speed and memory of the circuit's probabilities and gradient, and of a full training step.

Measured in one run, each configuration in a fresh subprocess:

- ``circuit``: the probabilities of Hadamards + EfficientSU2 (reverse_linear) for N qubits and
  ``reps`` repetitions, by
    * ``default.qubit``: PennyLane's default.qubit, ``diff_method="backprop"``, torch, float64;
    * ``lightning.qubit``: PennyLane-Lightning, ``diff_method="parameter-shift"``, float64
      (small sizes only: a gradient costs 2 circuit runs per angle);
    * ``engine-float32`` / ``engine-float64``: :class:`qt_pennylane.circuit.engine.StatevectorEngine`.
  For each: the forward time (probabilities under ``torch.no_grad``) and the forward+backward
  time (probabilities, then the gradient of a random linear functional of them w.r.t. the
  angles): the median of up to ``--repeats`` calls after one warm-up call, fewer when a
  configuration's time budget runs out. Grid: N in {8, 10, 13, 16, 20}, reps in {1, N, 2N}.
- ``training``: one optimizer step (Adam, batch of 128 random MNIST-shaped images, cross-entropy)
  of the paper's MNIST CNN (6,690 weights): classical, and Quantum-Train with N = 13, reps = 26
  and the paper's mapping, with the engine (float32 and float64) and with the default.qubit QNode.

Memory: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (the process's peak resident set) read in the
worker subprocess after the setup (imports, circuit, data) and again after the timed calls;
``peak_delta_mb`` is the difference, an honest upper-bound estimate of what the computation
needs on top of the libraries (it includes allocator caching and the warm-up call;
``tracemalloc`` does not see torch's allocations). ``fwd_peak_delta_mb`` is read after the
forward-only calls, ``peak_delta_mb`` after the forward+backward calls.

Configurations that would take too long are skipped and listed in the JSON with the reason;
a worker that runs past ``--timeout`` seconds is recorded as skipped ("timeout").

Usage::

    python benchmarks/speed.py --quick          # smoke run (~2 minutes): small grid, 3 repeats
    python benchmarks/speed.py                  # the full grid (run alone on the machine)
    python benchmarks/speed.py --qubits 20 --methods engine-float32 engine-float64 --no-training

Writes ``benchmarks/results/speed.json`` and ``speed.png`` (``speed_quick.*`` with ``--quick``;
``--out`` chooses another JSON path, the PNG goes beside it), rewritten after every
configuration, with the exact command, torch's thread count and machine information.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
METHODS = ("default.qubit", "lightning.qubit", "engine-float32", "engine-float64")
QUBITS = (8, 10, 13, 16, 20)
TRAINING = ("classical", "qt-engine-float32", "qt-engine-float64", "qt-qnode-default.qubit")


# --------------------------------------------------------------------------- worker side
def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def measure_calls(fn, repeats: int, budget_s: float) -> dict:
    """One warm-up call, then up to ``repeats`` timed calls while the budget lasts (at least one)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    times = []
    spent = first
    while len(times) < repeats and (not times or spent + statistics.median(times) <= budget_s):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
        spent += times[-1]
    return {
        "median_ms": 1e3 * statistics.median(times),
        "min_ms": 1e3 * min(times),
        "first_call_ms": 1e3 * first,
        "times_ms": [round(1e3 * t, 4) for t in times],
    }


def _circuit_worker(cfg: dict) -> dict:
    import torch

    torch.set_num_threads(cfg["threads"])
    n, reps, method = cfg["n_qubits"], cfg["reps"], cfg["method"]
    dtype = torch.float32 if method == "engine-float32" else torch.float64
    generator = torch.Generator().manual_seed(0)
    phi = 2 * math.pi * torch.rand((reps + 1, 2, n), generator=generator, dtype=dtype)
    weights = torch.randn(2**n, generator=generator, dtype=dtype)
    extra = {}
    if method.startswith("engine"):
        from qt_pennylane.circuit.engine import StatevectorEngine, block_sizes

        engine = StatevectorEngine(n, reps)
        fn = engine.probabilities
        sizes = block_sizes(n, dtype)
        cache = reps * len(sizes) * 2**n * 2 * phi.element_size()
        extra = {"block_sizes": list(sizes), "states_cached": cache <= engine.max_cache_bytes}
    else:
        import pennylane as qml

        from qt_pennylane.circuit.ansatz import efficient_su2

        dev = qml.device(method, wires=n)
        diff = "backprop" if method == "default.qubit" else "parameter-shift"

        @qml.qnode(dev, interface="torch", diff_method=diff)
        def fn(angles):
            efficient_su2(angles, wires=range(n))
            return qml.probs(wires=range(n))

        extra = {"diff_method": diff}

    def forward():
        with torch.no_grad():
            fn(phi)

    def forward_backward():
        angles = phi.clone().requires_grad_(True)
        (fn(angles).to(dtype) @ weights).backward()

    rss0 = _maxrss_mb()
    fwd = measure_calls(forward, cfg["repeats"], cfg["budget_s"])
    rss_fwd = _maxrss_mb()
    fb = measure_calls(forward_backward, cfg["repeats"], cfg["budget_s"])
    rss_fb = _maxrss_mb()
    return {
        **extra,
        "dtype": str(dtype).replace("torch.", ""),
        "n_angles": 2 * n * (reps + 1),
        "forward": fwd,
        "forward_backward": fb,
        "rss_before_mb": round(rss0, 1),
        "peak_rss_mb": round(rss_fb, 1),
        "fwd_peak_delta_mb": round(rss_fwd - rss0, 1),
        "peak_delta_mb": round(rss_fb - rss0, 1),
    }


def _training_worker(cfg: dict) -> dict:
    import torch
    import torch.nn.functional as F

    from qt_pennylane import QuantumTrainModel, QuantumWeightGenerator
    from qt_pennylane.tasks import MnistCNN

    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    variant = cfg["variant"]
    x = torch.randn(cfg["batch"], 1, 28, 28)
    y = torch.randint(0, 10, (cfg["batch"],))
    target = MnistCNN()
    n_target = sum(p.numel() for p in target.parameters())
    generator = None
    if variant == "classical":
        model = target
    else:
        engine = "qnode" if variant.startswith("qt-qnode") else "engine"
        dtype = torch.float32 if variant.endswith("float32") else torch.float64
        generator = QuantumWeightGenerator(
            n_target, reps=cfg["reps"], mapping="paper", seed=0, engine=engine, dtype=dtype
        )
        model = QuantumTrainModel(target, generator, generate="all", scale="none")
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()

    rss0 = _maxrss_mb()
    result = {"step": measure_calls(step, cfg["repeats"], cfg["budget_s"])}
    if generator is not None:  # the weight generation alone: forward and backward of θ
        probe = torch.randn(n_target, dtype=generator.phi.dtype)

        def generate():
            optimizer.zero_grad()
            (generator() @ probe).backward()

        result["generate_weights"] = measure_calls(generate, cfg["repeats"], cfg["budget_s"])
    rss1 = _maxrss_mb()
    return {
        **result,
        "target_params": n_target,
        "trainable_params": trainable,
        "n_qubits": getattr(generator, "n_qubits", None),
        "rss_before_mb": round(rss0, 1),
        "peak_rss_mb": round(rss1, 1),
        "peak_delta_mb": round(rss1 - rss0, 1),
    }


def worker(cfg: dict) -> None:
    out = _circuit_worker(cfg) if cfg["kind"] == "circuit" else _training_worker(cfg)
    print("RESULT " + json.dumps(out))


# --------------------------------------------------------------------------- driver side
def skip_reason(method: str, n: int, reps: int) -> str | None:
    if method == "default.qubit" and n >= 16:
        return (
            "default.qubit with backprop at N >= 16: thousands of gate tensors of 2^N amplitudes kept for "
            "the backward pass; minutes per call and GBs of memory (N = 13, reps = 26 already takes ~0.3 s and ~0.4 GB)"
        )
    if method == "lightning.qubit" and (n, reps) not in {(8, 1), (10, 1)}:
        return (
            "parameter-shift needs 2 circuit runs per angle (4·N·(reps+1) runs per gradient); "
            "measured at N = 8 and 10 with reps = 1 only"
        )
    return None


def circuit_grid(args) -> list[dict]:
    configs = []
    for n in args.qubits:
        for reps in sorted({1, n, 2 * n}):
            for method in args.methods:
                configs.append({"kind": "circuit", "method": method, "n_qubits": n, "reps": reps})
    return configs


def run_worker(cfg: dict, timeout: float) -> dict:
    started = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(cfg)],
            capture_output=True, text=True, timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"status": "skipped", "reason": f"timeout after {timeout:.0f} s"}
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        return {"status": "failed", "returncode": proc.returncode, "stderr": proc.stderr[-3000:]}
    return {"status": "ok", "wall_s": round(time.perf_counter() - started, 2), **json.loads(lines[-1][7:])}


def machine_info(threads: int) -> dict:
    import pennylane
    import torch

    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "pennylane": pennylane.__version__,
        "torch_threads": threads,
        "torch_parallel_info": torch.__config__.parallel_info().splitlines()[:8],
    }
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        info["cpu_model"] = names[0] if names else None
        with open("/proc/meminfo") as f:
            info["mem_total"] = f.readline().split(":", 1)[1].strip()
    except OSError:
        pass
    try:
        from importlib.metadata import version

        info["pennylane_lightning"] = version("pennylane_lightning")
    except Exception:  # noqa: BLE001 - optional information
        info["pennylane_lightning"] = None
    info["load_average_at_start"] = os.getloadavg()
    return info


def plot(payload: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in payload["circuit"] if r["status"] == "ok"]
    fig, axes = plt.subplots(1, 3, figsize=(17, 5))
    styles = {"reps=2N": "-", "reps=N": "--", "reps=1": ":"}
    colors = {m: f"C{i}" for i, m in enumerate(METHODS)}
    for method in METHODS:
        for label, style in styles.items():
            rows = sorted(
                (r for r in ok if r["method"] == method and _reps_label(r) == label), key=lambda r: r["n_qubits"]
            )
            if not rows:
                continue
            xs = [r["n_qubits"] for r in rows]
            axes[0].plot(xs, [r["forward_backward"]["median_ms"] for r in rows], style, marker="o",
                         color=colors[method], label=f"{method}, {label}")
            axes[1].plot(xs, [max(r["peak_delta_mb"], 0.1) for r in rows], style, marker="o",
                         color=colors[method], label=f"{method}, {label}")
    axes[0].set(yscale="log", xlabel="qubits N", ylabel="forward + backward, median [ms]",
                title="probabilities and their gradient")
    axes[1].set(yscale="log", xlabel="qubits N", ylabel="peak RSS increase [MB]", title="peak memory (ru_maxrss)")
    for ax in axes[:2]:
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    train = [r for r in payload["training"] if r["status"] == "ok"]
    if train:
        names = [r["variant"] for r in train]
        values = [r["step"]["median_ms"] for r in train]
        axes[2].bar(range(len(values)), values, color=[f"C{i}" for i in range(len(values))])
        axes[2].set_xticks(range(len(values)), names, rotation=20, fontsize=8)
        axes[2].set(yscale="log", ylabel="training step, median [ms]",
                    title="MNIST CNN step, batch 128 (QT: N=13, reps=26)")
        for i, v in enumerate(values):
            axes[2].text(i, v, f"{v:.1f}", ha="center", va="bottom", fontsize=8)
    fig.suptitle(f"threads={payload['machine']['torch_threads']}  {payload['machine'].get('cpu_model', '')}"
                 + ("  (quick)" if payload["settings"]["quick"] else ""), fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _reps_label(r: dict) -> str:
    if r["reps"] == 2 * r["n_qubits"] and r["n_qubits"] > 1:
        return "reps=2N"
    if r["reps"] == r["n_qubits"] and r["n_qubits"] > 1:
        return "reps=N"
    return "reps=1" if r["reps"] == 1 else f"reps={r['reps']}"


def write(payload: dict, json_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=1))
    tmp.replace(json_path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: N in {8, 13}, reps in {1, 2N}, 3 repeats")
    parser.add_argument("--qubits", type=int, nargs="+", help=f"qubit counts (default {list(QUBITS)})")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--repeats", type=int, help="timed calls per measurement (default 7; quick: 3)")
    parser.add_argument("--budget", type=float, help="seconds per measurement before fewer repeats (default 30; quick 5)")
    parser.add_argument("--timeout", type=float, help="seconds per configuration (default 900; quick 180)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads in every worker (default: torch's choice)")
    parser.add_argument("--batch", type=int, default=128, help="training-step batch size")
    parser.add_argument("--no-training", action="store_true", help="skip the training-step section")
    parser.add_argument("--out", type=Path, help="JSON path (default benchmarks/results/speed[_quick].json)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(json.loads(args.worker))
        return 0

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)  # so that the recorded parallel info matches the workers
    threads = torch.get_num_threads()
    quick = args.quick
    args.qubits = args.qubits or ([8, 13] if quick else list(QUBITS))
    repeats = args.repeats or (3 if quick else 7)
    budget = args.budget or (5.0 if quick else 30.0)
    timeout = args.timeout or (180.0 if quick else 900.0)
    json_path = args.out or RESULTS / ("speed_quick.json" if quick else "speed.json")
    common = {"threads": threads, "repeats": repeats, "budget_s": budget}

    payload = {
        "command": shlex.join([sys.executable, *sys.argv]),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "machine": machine_info(threads),
        "settings": {"quick": quick, "qubits": args.qubits, "methods": args.methods, "repeats": repeats,
                     "budget_s": budget, "timeout_s": timeout, "batch": args.batch,
                     "entanglement": "reverse_linear", "memory": "ru_maxrss delta in a fresh subprocess"},
        "circuit": [],
        "training": [],
    }
    configs = circuit_grid(args)
    if quick:
        configs = [c for c in configs if c["reps"] != c["n_qubits"] or c["n_qubits"] == 1]
    for cfg in configs:
        reason = skip_reason(cfg["method"], cfg["n_qubits"], cfg["reps"])
        label = f"{cfg['method']:16s} N={cfg['n_qubits']:2d} reps={cfg['reps']:2d}"
        if reason:
            record = {**cfg, "status": "skipped", "reason": reason}
        else:
            record = {**cfg, **run_worker({**cfg, **common}, timeout)}
        payload["circuit"].append(record)
        if record["status"] == "ok":
            print(f"{label}  fwd {record['forward']['median_ms']:10.2f} ms  "
                  f"fwd+bwd {record['forward_backward']['median_ms']:10.2f} ms  "
                  f"peak +{record['peak_delta_mb']:8.1f} MB", flush=True)
        else:
            print(f"{label}  {record['status']}: {record.get('reason') or record.get('stderr', '')[-300:]}", flush=True)
        write(payload, json_path)

    if not args.no_training:
        for variant in TRAINING:
            cfg = {"kind": "training", "variant": variant, "reps": 26, "batch": args.batch, **common}
            if variant.startswith("qt-qnode"):
                cfg["repeats"] = min(repeats, 3)
            record = {**cfg, **run_worker(cfg, timeout)}
            payload["training"].append(record)
            if record["status"] == "ok":
                gen = record.get("generate_weights", {}).get("median_ms")
                print(f"training {variant:24s} step {record['step']['median_ms']:9.2f} ms"
                      + (f"  (weights fwd+bwd {gen:8.2f} ms)" if gen else ""), flush=True)
            else:
                print(f"training {variant:24s} {record['status']}: {record.get('stderr', '')[-500:]}", flush=True)
            write(payload, json_path)

    payload["finished"] = time.strftime("%Y-%m-%d %H:%M:%S %z")
    payload["machine"]["load_average_at_end"] = os.getloadavg()
    write(payload, json_path)
    plot(payload, json_path.with_suffix(".png"))
    print(f"wrote {json_path} and {json_path.with_suffix('.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
