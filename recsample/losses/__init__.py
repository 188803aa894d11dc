"""Losses: what one unit of the training loop (a positive and its negatives,
or a group of one user's positives sharing N negatives) contributes.

One file per loss: :mod:`.pair` (BPR, BPO), :mod:`.softmax` (sampled softmax
with the logQ correction), :mod:`.ccl` (cosine contrastive loss). The contract
is in :mod:`.base`.
"""
from .base import Hyper, group_gradients, train_unit, user_group_gradients
from .pair import LOSS_EVERY, PairGroupLoss, PairLoss, pair_group_loss_state, pair_loss_state
from .softmax import SoftmaxLoss
from .ccl import CCLLoss

__all__ = ["Hyper", "train_unit", "group_gradients", "user_group_gradients", "LOSS_EVERY",
           "PairLoss", "PairGroupLoss", "SoftmaxLoss", "CCLLoss", "pair_loss_state",
           "pair_group_loss_state"]
