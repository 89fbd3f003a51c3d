"""Optional heavy parts load only when used: the engine path never imports PennyLane or Qiskit."""
import subprocess
import sys

ENGINE_RUN = """
import sys
import torch
from torch.utils.data import TensorDataset
from qt_pennylane import QuantumTrainModel, fit, paper_schedule
x = torch.randn(32, 3)
data = TensorDataset(x, (x[:, 0] > 0).long())
model = QuantumTrainModel(torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2)),
                          reps=1, seed=0)
fit(model, data, epochs=2, progress=False)
sampled = QuantumTrainModel(torch.nn.Linear(3, 2), reps=1, shots=100, seed=0)
fit(sampled, data, epochs=1, progress=False)
paper_schedule(QuantumTrainModel(torch.nn.Linear(3, 2), generate="all", scale="none", mapping="paper", reps=0, seed=0), data,
               periods=1, phi_iters=1, gamma_iters=1, progress=False)
model.export()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"pennylane", "qiskit", "qiskit_aer",
                                                              "qiskit_ibm_runtime", "pennylane_qiskit"})
print("HEAVY", heavy)
"""


def test_training_on_the_engine_imports_neither_pennylane_nor_qiskit():
    done = subprocess.run([sys.executable, "-c", ENGINE_RUN], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout, done.stdout


def test_a_qnode_imports_pennylane():
    code = ("import sys; from qt_pennylane import QuantumWeightGenerator\n"
            "QuantumWeightGenerator(4, engine='qnode', seed=0)()\n"
            "print('pennylane' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"
