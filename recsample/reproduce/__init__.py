"""Reproductions of published results with recsample's trainers and samplers.

Each module reproduces one paper's experiment and exposes the same three
entry points: a Python function that runs it and returns the results, and
``add_arguments(parser)`` / ``run(args)`` for the ``recsample reproduce``
command line.

The protocol they share (validation carved from train, early stopping,
per-epoch records and epoch selection, runs per seed, summaries and paired
tests over seeds) is in :mod:`recsample.reproduce.protocol`.

- :mod:`recsample.reproduce.nbpo`: Yu & Qin, "Sampler Design for Implicit
  Feedback Data by Noisy-label Robust Learning", SIGIR 2020 (BPR, BPO and
  NBPO on the authors' Amazon split), with the authors' per-epoch evaluator
  in :mod:`recsample.reproduce.nbpo_eval` and its tables in
  :mod:`recsample.reproduce.nbpo_report`.
- :mod:`recsample.reproduce.gowalla`: matrix factorisation with BPR, sampled
  softmax and CCL on the Gowalla split of NGCF and LightGCN, beside the rows
  published by NGCF (Wang et al., SIGIR 2019), LightGCN (He et al., SIGIR
  2020) and SimpleX (Mao et al., CIKM 2021).
"""
