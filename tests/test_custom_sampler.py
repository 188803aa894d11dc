"""A sampler defined outside the package plugs into every trainer unchanged."""
from collections import namedtuple

import numpy as np
import scipy.sparse as sp

import recsample as rs
from recsample.samplers.base import Sampler, draw, implements, is_positive

# the highest-numbered item that is not a positive of the user
LastFreeState = namedtuple("LastFreeState", [])


@implements(draw, LastFreeState)
def _draw_last_free(state, pos, u, i, U, V, rng):
    for j in range(pos.n_items - 1, -1, -1):
        if not is_positive(pos, u, j):
            return j
    return -1


class LastFree(Sampler):
    name = "last-free"

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        return LastFreeState()


def test_custom_sampler_draws_from_python_and_trains_both_models():
    m = sp.csr_matrix(np.array([[1, 0, 1, 1], [0, 1, 0, 0], [1, 1, 1, 1]], dtype=np.float32))
    assert list(LastFree().sample(m, [0, 1, 2], seed=0)) == [1, 3, -1]
    for cls in (rs.BPR, rs.BPO):
        model = cls(factors=2, epochs=2, sampler=LastFree()).fit(m, progress=False)
        assert model.history_[-1]["pairs"] == 4  # user 2 owns every item: skipped
        assert model.history_[-1]["skipped"] == 4


def test_custom_state_types_stay_out_of_the_disk_cache(tmp_path):
    """Another process must still load the cached trainer after a custom
    sampler (whose module it cannot import) has been trained."""
    import os
    import subprocess
    import sys
    m = sp.csr_matrix(np.eye(4, dtype=np.float32))
    rs.BPR(factors=2, epochs=1, sampler=LastFree()).fit(m, progress=False)
    from recsample.models import _train
    assert not any("LastFree" in str(sig) for sig in _train.run_blocks.cached.signatures)
    script = ("import numpy as np, scipy.sparse as sp, recsample as rs; "
              "rs.BPR(factors=2, epochs=1).fit(sp.csr_matrix(np.eye(4, dtype=np.float32)), "
              "progress=False); print('ok')")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=dict(os.environ), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
