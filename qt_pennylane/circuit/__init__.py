"""Where probabilities come from: the EfficientSU2 ansatz, the fast engine, shots and probability sources."""
