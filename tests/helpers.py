"""Small helpers shared by the test modules."""
import numpy as np


class Factors:
    """Given factor matrices in the shape every trained model exposes."""

    def __init__(self, U, V):
        self.user_factors = np.asarray(U, dtype=np.float32)
        self.item_factors = np.asarray(V, dtype=np.float32)
