"""Write ``neural_tangents_reference.json``: the authors' two kernels computed by neural-tangents.

Not part of the test suite (it needs neural-tangents, which the package does not depend on).
It ran once, in a throwaway venv, as::

    python3 -m venv /tmp/ntvenv
    /tmp/ntvenv/bin/pip install -c constraints.txt neural-tangents jax          # 0.6.5 + jax 0.10.2: import fails
    /tmp/ntvenv/bin/pip install -c constraints.txt jax==0.4.30 jaxlib==0.4.30 tf2jax==0.3.6
    /tmp/ntvenv/bin/python tests/ntk/make_neural_tangents_reference.py

The networks are written as in the authors' ``training.py`` (``create_fully_connected_network``,
``create_convolutional_network``), with the inputs drawn here from a seeded numpy generator.
"""
import json
import math
from pathlib import Path

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import neural_tangents as nt  # noqa: E402
import numpy as np  # noqa: E402
from neural_tangents import stax  # noqa: E402

ERF_SCALE = 2.0 / math.pi * math.asin(2.0 / 3.0)


def fully_connected(depth):
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(512, W_std=np.sqrt(1 / ERF_SCALE), b_std=0.0), stax.Erf()]
    return stax.serial(*layers, stax.Dense(1, W_std=np.sqrt(1 / ERF_SCALE), b_std=0.0))[2]


def convolutional(depth):
    conv = lambda: stax.Conv(1, (3, 3), W_std=np.sqrt(2.0), b_std=0.0, padding="SAME")  # noqa: E731
    layers = []
    for block in range(3):
        layers += [conv(), stax.Relu()] * (depth // 3)
        layers += [stax.AvgPool((2, 2), strides=(2, 2))] * (2 if block == 2 else 1)
    layers += [stax.Flatten(), stax.Dense(2, np.sqrt(2.0), 0.0), stax.Erf(), stax.Dense(1, np.sqrt(2.0), 0.0)]
    return stax.serial(*layers)[2]


def main():
    rng = np.random.default_rng(2107_09200)
    cases = []
    x = rng.normal(size=(5, 12))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    for depth in (1, 4, 30):
        cases.append({"network": "fc-erf", "depth": depth, "x": x.tolist(),
                      "ntk": np.asarray(fully_connected(depth)(jnp.array(x), None, "ntk")).tolist()})
    for size, depth in ((16, 3), (16, 6), (28, 3)):
        images = rng.normal(size=(3, size, size))
        images /= np.linalg.norm(images.reshape(3, -1), axis=1)[:, None, None]
        kernel_fn = nt.batch(convolutional(depth), batch_size=1)
        ntk = kernel_fn(jnp.array(images[..., None]), None, "ntk")
        cases.append({"network": "cnn-relu", "depth": depth, "x": images.tolist(), "ntk": np.asarray(ntk).tolist()})
    versions = {"neural_tangents": nt.__version__ if hasattr(nt, "__version__") else "0.6.5", "jax": jax.__version__}
    out = Path(__file__).with_name("neural_tangents_reference.json")
    out.write_text(json.dumps({"versions": versions, "cases": cases}) + "\n")


if __name__ == "__main__":
    main()
