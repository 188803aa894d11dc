"""The core every layer of recsample builds on, one module per concept:

- :mod:`.hooks`: the sampler contract, the compiled hooks a sampler registers
  for its state class, their defaults, and the cache policy of kernels that
  take a state (:func:`~recsample.core.hooks.state_kernel`);
- :mod:`.positives`: the training positives as compiled code reads them
  (:class:`~recsample.core.positives.Positives`), exact membership tests and
  uniform draws of non-positives;
- :mod:`.linalg`: dot products of factor rows;
- :mod:`.validation`: argument checks and the canonical CSR conversion.

The pair losses' maths (sigmoid, BPR and BPO gradients) is in
:mod:`recsample.losses.pair`; the :class:`~recsample.samplers.Sampler` base
class in :mod:`recsample.samplers.base`. Nothing is imported here, so each
module loads only what it needs.
"""
