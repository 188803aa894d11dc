"""rs.tune: choices made on validation only, resumable studies, clear errors."""
import io

import numpy as np
import pytest
import scipy.sparse as sp

optuna = pytest.importorskip("optuna", reason="rs.tune needs optuna (pip install -e .[tune])")

import recsample as rs  # noqa: E402
from recsample import tuning  # noqa: E402
from recsample.search_space import Choice, IntRange, LogUniform, Range, Uniform  # noqa: E402


def _csr(rows, shape):
    users = [u for u, items in enumerate(rows) for _ in items]
    items = [i for r in rows for i in r]
    return sp.csr_matrix((np.ones(len(items), np.float32), (users, items)), shape=shape)


def _split_that_disagrees(n_users=60, n_popular=30, n_cold=10, seed=0):
    """Train on popular items only. Validation holds items never seen in
    training (a trained BPR pushes them to the bottom, an untrained one ranks
    them at random); test holds popular items (a trained BPR wins). So the
    validation-optimal learning rate is the tiny one, the test-optimal one
    the large one."""
    rng = np.random.default_rng(seed)
    n_items = n_popular + n_cold
    train, valid, test = [], [], []
    for _ in range(n_users):
        pop = rng.permutation(n_popular)
        train.append(sorted(pop[:10]))
        test.append(sorted(pop[10:12]))
        valid.append(sorted(n_popular + rng.choice(n_cold, 2, replace=False)))
    shape = (n_users, n_items)
    return _csr(train, shape), _csr(valid, shape), _csr(test, shape)


@pytest.fixture(scope="module")
def disagreeing():
    return _split_that_disagrees()


TINY_OR_LARGE = {"learning_rate": Choice((1e-6, 0.1)), "regularization": 0.0}


def _ndcg(model, test, train):
    return float(rs.evaluate(model, test, train=train, k=10, metrics=("ndcg",))
                 .summary()["mean"].iloc[0])


def test_tuner_picks_the_validation_optimum_where_test_prefers_another(disagreeing):
    train, valid, test = disagreeing
    best = rs.tune("bpr", "uniform", train=train, valid=valid, trials=4, space=TINY_OR_LARGE,
                   max_epochs=15, patience=15, prune=False, n_threads=1, progress=False)
    tried = set(best.trials["learning_rate"])
    assert tried == {1e-6, 0.1}
    # the data do disagree: on test the other learning rate wins
    on_test = {lr: _ndcg(rs.BPR(learning_rate=lr, regularization=0.0, epochs=15, seed=0,
                                n_threads=1).fit(train, progress=False), test, train)
               for lr in (1e-6, 0.1)}
    assert max(on_test, key=on_test.get) == 0.1
    on_valid = best.trials.groupby("learning_rate")["value"].max()
    assert on_valid.idxmax() == 1e-6
    assert best.params["learning_rate"] == 1e-6


def test_tuner_has_no_test_argument():
    import inspect
    assert not any("test" in name for name in inspect.signature(rs.tune).parameters)


def test_validation_is_carved_from_train_when_not_given(disagreeing, monkeypatch):
    train, _, _ = disagreeing
    seen = []
    original = tuning._Objective.__call__

    def spy(self, trial):
        seen.append((self.train.nnz, self.valid.nnz))
        return original(self, trial)

    monkeypatch.setattr(tuning._Objective, "__call__", spy)
    rs.tune("ease", train=train, trials=1, progress=False)
    fit_nnz, valid_nnz = seen[0]
    assert valid_nnz > 0 and fit_nnz + valid_nnz == train.nnz


def test_result_records_the_best_trials_epoch_and_rebuilds_the_model(disagreeing):
    train, valid, _ = disagreeing
    best = rs.tune("bpr", "dns", train=train, valid=valid, trials=3, max_epochs=8, patience=3,
                   n_threads=1, progress=False)
    row = best.trials.loc[best.trials["value"].idxmax()]
    assert best.params["epochs"] == row["epochs"]
    assert best.params["sampler"].candidates == row["sampler.candidates"]
    model = best.make_model()
    assert isinstance(model, rs.BPR) and model.epochs == row["epochs"]
    assert best.settings()["sampler"]["name"] == "dns"


def _count_calls(monkeypatch, stop_at=None):
    calls = []
    original = tuning._Objective.__call__

    def counted(self, trial):
        calls.append(trial.number)
        if stop_at is not None and len(calls) == stop_at:
            raise KeyboardInterrupt
        return original(self, trial)

    monkeypatch.setattr(tuning._Objective, "__call__", counted)
    return calls


def test_interrupted_study_resumes_and_runs_only_the_remaining_trials(disagreeing, tmp_path,
                                                                      monkeypatch):
    train, valid, _ = disagreeing
    db = tmp_path / "study.db"
    calls = _count_calls(monkeypatch, stop_at=4)      # Ctrl-C during the 4th trial
    with pytest.raises(KeyboardInterrupt):
        rs.tune("ease", train=train, valid=valid, trials=6, storage=db, progress=False)
    assert len(calls) == 4
    calls = _count_calls(monkeypatch)
    best = rs.tune("ease", train=train, valid=valid, trials=6, storage=db, progress=False)
    assert len(calls) == 3                          # 6 - 3 finished; the interrupted one reruns
    finished = best.trials[best.trials["state"] == "complete"]
    assert len(finished) == 6


def test_finished_study_runs_nothing_more(disagreeing, tmp_path, monkeypatch):
    train, valid, _ = disagreeing
    db = tmp_path / "study.db"
    rs.tune("ease", train=train, valid=valid, trials=2, storage=db, progress=False)
    calls = _count_calls(monkeypatch)
    rs.tune("ease", train=train, valid=valid, trials=2, storage=db, progress=False)
    assert calls == []


def test_stored_study_with_other_settings_is_refused(disagreeing, tmp_path):
    train, valid, _ = disagreeing
    db = tmp_path / "study.db"
    rs.tune("ease", train=train, valid=valid, trials=1, storage=db, progress=False,
            study_name="s")
    with pytest.raises(ValueError, match="storage"):
        rs.tune("ease", train=train, valid=valid, trials=1, storage=db, progress=False,
                study_name="s", metric="recall@5")


def test_parallel_processes_share_one_study(disagreeing, tmp_path):
    train, valid, _ = disagreeing
    best = rs.tune("ease", train=train, valid=valid, trials=4, n_jobs=2,
                   storage=tmp_path / "study.db", progress=False)
    assert (best.trials["state"] == "complete").sum() == 4


def test_progress_off_a_terminal_is_one_line_per_trial(disagreeing):
    train, valid, _ = disagreeing
    out = io.StringIO()
    rs.tune("ease", train=train, valid=valid, trials=3, progress=True, stream=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in out.getvalue()
    assert all(line.startswith(f"tune ease-ndcg@10 {n}/3: trial {n - 1} complete")
               for n, line in zip((1, 2, 3), lines))


@pytest.mark.parametrize("kwargs, argument", [
    ({"trials": 0}, "trials"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": -5.0}, "timeout"),
    ({"metric": "ndgc@10"}, "metric"),
    ({"metric": "ndcg"}, "metric"),
    ({"model": "bprr"}, "model"),
    ({"sampler": "dnss"}, "sampler"),
    ({"space": {"learnign_rate": LogUniform(0.01, 0.1)}}, "space"),
    ({"params": {"factor": 8}}, "params"),
    ({"model": "ease", "sampler": "dns"}, "sampler"),
    ({"max_epochs": 0}, "max_epochs"),
])
def test_bad_budget_space_or_names_are_refused_naming_the_argument(disagreeing, kwargs,
                                                                   argument):
    train, valid, _ = disagreeing
    args = {"model": "bpr", "train": train, "valid": valid, "progress": False, **kwargs}
    with pytest.raises(ValueError, match=argument):
        rs.tune(**args)


@pytest.mark.parametrize("make", [lambda: LogUniform(0.0, 1.0), lambda: Uniform(1.0, 1.0),
                                  lambda: IntRange(4, 2), lambda: Choice((1,))])
def test_bad_ranges_are_refused(make):
    with pytest.raises(ValueError):
        make()


def _declared(cls):
    import inspect
    params = set(inspect.signature(cls).parameters) if not hasattr(cls, "_defaults") \
        else set(cls._defaults)
    return params, cls.search_space


@pytest.mark.parametrize("name", sorted(rs.samplers.SAMPLERS))
def test_every_sampler_declares_ranges_over_its_own_parameters(name):
    """What tune searches for a sampler is exactly its declared space, over
    parameters it has: none for a sampler that declares none."""
    cls = rs.samplers.SAMPLERS[name]
    params, space = _declared(cls)
    assert set(space) <= params and all(isinstance(r, Range) for r in space.values())
    ranges, _ = tuning._space_for(rs.BPR, cls(), {})
    searched = {k.split(".", 1)[1] for k in ranges if k.startswith("sampler.")}
    assert searched == set(space)


@pytest.mark.parametrize("name", tuning.tunable_names())
def test_every_model_declares_ranges_over_its_own_parameters(name):
    cls, _ = tuning.resolve_model(name)
    params, space = _declared(cls)
    assert set(space) <= params and all(isinstance(r, Range) for r in space.values())


def test_sampler_ranges_follow_the_instances_bounds():
    """DNS(M, N) is searched over N >= M, k-OS over k <= K: a trial never
    proposes a setting the sampler refuses."""
    from recsample.samplers import DNS, KOS
    ranges, _ = tuning._space_for(rs.BPR, DNS(candidates=32, hardest=8), {})
    assert ranges["sampler.candidates"].low == 8
    ranges, _ = tuning._space_for(rs.BPR, DNS(), {})
    assert ranges["sampler.candidates"].low == 2
    ranges, _ = tuning._space_for(rs.BPR, KOS(n_positives=4, k=2), {})
    assert ranges["sampler.k"].high == 4
    ranges, _ = tuning._space_for(rs.BPR, KOS(n_positives=1, k=1), {})
    assert "sampler.k" not in ranges
