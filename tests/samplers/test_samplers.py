"""Samplers draw from exactly the distribution they define, and never a positive."""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit
from scipy import stats

import recsample as rs
from recsample._rng import stream
from recsample.core.hooks import draw_group_scored
from recsample.samplers import DNS, KOS, NBPO, Popularity, Uniform, get_sampler
from recsample.samplers.base import group_users, positives_of, sample_users
from helpers import Factors

# A goodness-of-fit test at this level fails by chance once in 10,000 runs;
# the seeds are fixed, so a failure means the distribution is wrong.
P_MIN = 1e-4


@pytest.fixture
def small():
    """4 users x 12 items with uneven popularity; user 3 owns 10 of 12 items."""
    rows = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2] + [3] * 10
    cols = [0, 1, 2, 0, 3, 10, 0, 1, 4, 5, 10, 11] + list(range(10))
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(4, 12))
    return rs.Interactions.from_csr(m)


def _counts(items, n_items):
    assert items.min() >= 0
    return np.bincount(items, minlength=n_items)


@pytest.mark.parametrize("user", [0, 3])
def test_uniform_matches_its_definition(small, user):
    n = 120_000
    items = Uniform().sample(small, np.full(n, user), seed=7)
    counts = _counts(items, small.n_items)
    positives = small.matrix[user].indices
    assert counts[positives].sum() == 0
    free = np.setdiff1d(np.arange(small.n_items), positives)
    expected = np.full(len(free), 1.0 / len(free)) * counts[free].sum()
    assert stats.chisquare(counts[free], expected).pvalue > P_MIN


@pytest.mark.parametrize("alpha", [0.0, 0.75, 1.0])
@pytest.mark.parametrize("user", [0, 3])
def test_popularity_matches_count_power_alpha(small, alpha, user):
    n = 200_000
    items = Popularity(alpha=alpha).sample(small, np.full(n, user), seed=3)
    counts = _counts(items, small.n_items)
    item_counts = np.bincount(small.matrix.indices, minlength=small.n_items).astype(float)
    weights = np.where(item_counts > 0, item_counts ** alpha, 0.0) if alpha > 0 \
        else np.ones(small.n_items)
    weights[small.matrix[user].indices] = 0.0
    support = weights > 0
    assert counts[~support].sum() == 0
    expected = weights[support] / weights[support].sum() * counts[support].sum()
    assert stats.chisquare(counts[support], expected).pvalue > P_MIN


def test_popularity_alpha_zero_equals_uniform_support(small):
    items = Popularity(alpha=0.0).sample(small, np.zeros(50_000, int), seed=0)
    assert set(np.unique(items)) == set(range(3, 12))


def test_popularity_skips_user_whose_non_positives_were_never_seen():
    # item 2 has no training interaction: weight 0 for alpha > 0, so user 0
    # (who owns 0 and 1) has nothing to draw; alpha = 0 still draws item 2
    m = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 0]], dtype=np.float32))
    assert (Popularity(alpha=1.0).sample(m, [0, 0], seed=0) == -1).all()
    assert (Popularity(alpha=0.0).sample(m, [0, 0], seed=0) == 2).all()


@pytest.mark.parametrize("m", [1, 5, 70])  # 70: three chunks of candidate slots, odd tail
def test_dns_returns_argmax_of_its_uniform_candidates(small, m):
    rng = np.random.default_rng(0)
    model = Factors(rng.normal(size=(4, 3)), rng.normal(size=(12, 3)))
    scores = model.user_factors @ model.item_factors.T
    for seed in range(200 if m < 70 else 50):
        for user in range(4):
            # DNS draws its m candidates on the same stream, in the same way,
            # as m consecutive uniform draws for the user.
            cands = Uniform().sample(small, np.full(m, user), seed=seed)
            got = DNS(candidates=m).sample(small, [user], seed=seed, model=model)[0]
            best = cands[np.argmax(scores[user, cands])]  # first maximum wins ties
            assert got == best


@pytest.mark.parametrize("cosine", [False, True])
@pytest.mark.parametrize("kwargs", [dict(candidates=1), dict(candidates=2),
                                    dict(candidates=5), dict(candidates=70),
                                    dict(candidates=300), dict(candidates=3, hardest=2),
                                    dict(candidates=3, temperature=0.5)])
def test_dns_unit_draws_are_the_draws_one_by_one(kwargs, cosine):
    # a group loss takes its unit's N negatives from draw_group; DNS scores
    # the unit's candidates together there (70: several negatives per batch
    # of 256 slots, odd tail; 300: more than a batch holds). The draws must be
    # those of N single draws on the same stream: same candidates, same picks,
    # the first of equal scores winning. Scores in whole numbers tie often;
    # user 4 owns every item (no negative), user 3 ten of twelve (rank draws).
    rows = [0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2, 2] + [3] * 10 + [4] * 12
    cols = [0, 1, 2, 0, 3, 10, 0, 1, 4, 5, 10, 11] + list(range(10)) + list(range(12))
    m = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(5, 12))
    rng = np.random.default_rng(1)
    k = 3
    U = rng.integers(-2, 3, size=(5, k + cosine)).astype(np.float32)
    V = rng.integers(-2, 3, size=(12, k + cosine)).astype(np.float32)
    V[rng.random(12) < 0.2, :k] = 0.0   # rows of norm 0 under the cosine
    if cosine:
        U[:, k] = 1.0                   # the bias column, as the trainers fold it
    sampler = DNS(**kwargs)
    state = sampler.scoring_state(sampler.prepare(m, n_factors=k + cosine), cosine, k)
    pos = positives_of(m)
    n = 40
    users = np.array([0, 3, 1, 4, 2, 0], dtype=np.int64)
    for seed in range(25):
        got = group_users(state, pos, users, np.full(users.shape, -1), n, U, V, np.uint64(seed))
        each = sample_users(state, pos, np.repeat(users, n), np.full(users.size * n, -1), U, V,
                            np.uint64(seed)).reshape(users.size, n)
        # a user without negatives draws nothing and leaves the stream as it was
        keep = users != 4
        assert (got[~keep] == -1).all() and (each[~keep] == -1).all()
        np.testing.assert_array_equal(got[keep], each[keep])
        assert not m[users[keep]].toarray()[np.arange(keep.sum())[:, None], got[keep]].any()


@pytest.mark.parametrize("cosine", [False, True])
@pytest.mark.parametrize("candidates", [1, 2, 4, 7, 256])
def test_dns_batched_unit_draws_on_real_valued_factors(candidates, cosine):
    # dns_group_negatives itself (not through the hook, which could fall
    # back to single draws unseen), on 64 real-valued factors where the
    # order of a sum shows in its last bits; 37 negatives leave 1 over four
    # (and 37 x candidates a tail of 1 to 3). Item 5's row is NaN: a single
    # draw never picks it, nor may the batch (the first candidate of a
    # negative is not its default pick). 4 and 256 divide the batch of 256
    # slots, 256 fills it with one negative.
    from recsample._rng import stream
    from recsample.samplers.dns import dns_group_negatives
    rng = np.random.default_rng(2)
    n_users, n_items, k = 6, 300, 64
    owned = rng.random((n_users, n_items)) < 0.2
    owned[:, 5] = False
    m = sp.csr_matrix(owned.astype(np.float32))
    U = rng.normal(size=(n_users, k + cosine)).astype(np.float32)
    V = rng.normal(size=(n_items, k + cosine)).astype(np.float32)
    if candidates > 1:  # with one candidate a NaN draw drops the unit
        V[5] = np.nan
    if cosine:
        U[:, k] = 1.0
    sampler = DNS(candidates=candidates)
    state = sampler.scoring_state(sampler.prepare(m, n_factors=k + cosine), cosine, k)
    pos = positives_of(m)
    n = 37
    users = np.arange(n_users, dtype=np.int64)
    for seed in range(4):
        each = sample_users(state, pos, np.repeat(users, n), np.full(users.size * n, -1), U, V,
                            np.uint64(seed)).reshape(users.size, n)
        assert (each >= 0).all() and (candidates == 1 or (each != 5).all())
        np.testing.assert_array_equal(
            group_users(state, pos, users, np.full(users.shape, -1), n, U, V, np.uint64(seed)),
            each)
        r = stream(np.uint64(seed), 0, 0)
        items = np.full(n, -1, dtype=np.int64)
        for t, u in enumerate(users):
            assert dns_group_negatives(candidates, pos, u, U, V, r, items, 0, n, k if cosine else 0)
            np.testing.assert_array_equal(items, each[t])
    for bad in (0, 257):  # more than a batch of slots holds: the hook draws one by one
        with pytest.raises(ValueError, match="candidates must lie in 1..MAX_RANKED"):
            dns_group_negatives(bad, pos, 0, U, V, stream(np.uint64(0), 0, 0), items, 0, n, 0)


@njit
def scored_draw(state, pos, u, U, V, seed, items, x, norms, start, k, width):
    """draw_group_scored of items.shape[0] - start negatives into items[start:]
    (x[start:], norms[start:]) on the stream (seed, 0, 0)."""
    return draw_group_scored(state, pos, u, -1, U, V, stream(seed, 0, 0), items, start,
                             items.shape[0] - start, x, norms, k, width)


@pytest.mark.parametrize("cosine, bias", [(False, False), (False, True), (True, False),
                                          (True, True)])
def test_dns_hands_the_group_loop_its_picks_scores(cosine, bias):
    # the group loop scores only a unit's positives when the sampler's
    # draw_group_scored returns 2: the negatives' scores (and, for cosines,
    # their rows' lengths) are then the draw's, and must be what the loop's
    # own score_unit would have computed. The picks must be draw_group's.
    from recsample.losses.base import score_unit
    rng = np.random.default_rng(3)
    n_users, n_items, k = 5, 200, 16
    owned = rng.random((n_users, n_items)) < 0.2
    owned[4] = True                      # user 4: no negative to draw
    m = sp.csr_matrix(owned.astype(np.float32))
    width = k + bias
    U = rng.normal(size=(n_users, width)).astype(np.float32)
    V = rng.normal(size=(n_items, width)).astype(np.float32)
    if bias:
        U[:, k] = 1.0                    # the folded bias column
    k_loop = k if cosine else 0
    pos = positives_of(m)
    sampler = DNS(candidates=2)
    state = sampler.scoring_state(sampler.prepare(m, n_factors=k), cosine, k)
    # 300 negatives: three passes of the 128 that DNS(2)'s slots hold; written from 5 on
    n, start = 300, 5
    for u in range(4):
        for seed in range(3):
            items, x, norms = np.full(start + n, -1), np.full(start + n, 7.0), np.full(
                start + n, 7.0)
            assert scored_draw(state, pos, u, U, V, np.uint64(seed), items, x, norms, start,
                               k_loop, width) == 2
            assert (items[:start] == -1).all() and (x[:start] == 7.0).all()
            assert (norms[:start] == 7.0).all()
            drawn = group_users(state, pos, np.array([u]), np.full(1, -1), n, U, V,
                                np.uint64(seed))[0]
            np.testing.assert_array_equal(items[start:], drawn)
            want, lengths = np.empty(n), np.empty(n)
            score_unit(U, u, V, drawn, n, k, width, cosine, want, lengths)
            np.testing.assert_allclose(x[start:], want, rtol=1e-6, atol=1e-6)
            if cosine:
                np.testing.assert_allclose(norms[start:], lengths, rtol=1e-6)
    items, x, norms = np.full(n, -1), np.zeros(n), np.zeros(n)
    assert scored_draw(state, pos, 4, U, V, np.uint64(0), items, x, norms, 0, k_loop,
                       width) == 0
    # scores of another kind than the loop's (another cosine width, a bias
    # the loop has not or lacks, a dot product over fewer columns), or picks
    # not by the argmax: drawn, unscored
    others = [(k - 1 if cosine else k, width), (k_loop, width - 1 if bias else width + 1)]
    for k_other, width_other in others:
        assert scored_draw(state, pos, 0, U, V, np.uint64(0), items, x, norms, 0, k_other,
                           width_other) == 1
    for other in (DNS(candidates=2, temperature=0.5), DNS(candidates=3, hardest=2),
                  DNS(candidates=4, rho=1.0), DNS(candidates=300)):
        st = other.scoring_state(other.prepare(m, n_factors=k), cosine, k)
        assert scored_draw(st, pos, 0, U, V, np.uint64(0), items, x, norms, 0, k_loop,
                           width) == 1
    assert (x == 0).all() and (norms == 0).all()


def test_dns_with_temperature_samples_the_softmax_of_candidates():
    # user 0 owns item 3 of 4: enumerate every ordered pair of candidates
    # from items 0-2 (each 1/9) and the softmax over the pair.
    m = rs.Interactions.from_csr(sp.csr_matrix(([1.0], ([0], [3])), shape=(2, 4)))
    x = np.array([0.0, 1.0, 2.0, 0.0], dtype=np.float32)
    model = Factors(np.ones((2, 1)), x[:, None])
    t = 0.7
    expected = np.zeros(3)
    for a, b in itertools.product(range(3), repeat=2):
        w = np.exp(np.array([x[a], x[b]]) / t)
        expected[a] += w[0] / w.sum() / 9
        expected[b] += w[1] / w.sum() / 9
    n = 150_000
    items = DNS(candidates=2, temperature=t).sample(m, np.zeros(n, int), seed=11, model=model)
    counts = _counts(items, 4)
    assert counts[3] == 0
    expected /= expected.sum()  # exact to rounding; chisquare wants equal totals
    assert stats.chisquare(counts[:3], n * expected).pvalue > P_MIN


def test_dns_with_temperature_and_many_candidates_samples_the_softmax():
    # 40 candidates (more than one chunk of slots) from items 0-2: the pick is
    # a softmax draw over the multiset of candidates, so
    # P(a) = E[n_a w_a / sum_b n_b w_b] with (n_0, n_1, n_2) ~ Multinomial(40, 1/3).
    m = rs.Interactions.from_csr(sp.csr_matrix(([1.0], ([0], [3])), shape=(2, 4)))
    x = np.array([0.0, 0.5, 1.0, 0.0], dtype=np.float32)
    model = Factors(np.ones((2, 1)), x[:, None])
    t, M = 0.5, 40
    w = np.exp(x[:3].astype(np.float64) / t)
    expected = np.zeros(3)
    for n0 in range(M + 1):
        for n1 in range(M + 1 - n0):
            n = np.array([n0, n1, M - n0 - n1])
            p = stats.multinomial.pmf(n, M, [1 / 3] * 3)
            expected += p * n * w / (n * w).sum()
    draws = 100_000
    items = DNS(candidates=M, temperature=t).sample(m, np.zeros(draws, int), seed=3, model=model)
    counts = _counts(items, 4)
    assert counts[3] == 0
    expected /= expected.sum()
    assert stats.chisquare(counts[:3], draws * expected).pvalue > P_MIN


def test_dns_low_temperature_is_argmax(small):
    rng = np.random.default_rng(1)
    model = Factors(rng.normal(size=(4, 3)), rng.normal(size=(12, 3)))
    users = np.repeat(np.arange(4), 500)
    hard = DNS(candidates=4).sample(small, users, seed=5, model=model)
    cold = DNS(candidates=4, temperature=1e-6).sample(small, users, seed=5, model=model)
    # same candidates are not guaranteed (the temperature path draws Gumbel
    # noise on the same stream), but both must pick high scorers: compare the
    # mean score of the picks with the mean of uniform negatives
    scores = model.user_factors @ model.item_factors.T
    uni = Uniform().sample(small, users, seed=5)
    assert scores[users, cold].mean() > scores[users, uni].mean() + 0.3
    assert abs(scores[users, cold].mean() - scores[users, hard].mean()) < 0.15


@pytest.mark.parametrize("name", ["uniform", "popularity", "dns", "nbpo"])
def test_no_sampler_returns_a_training_positive_on_movielens(movielens, name):
    train = movielens.matrix
    rng = np.random.default_rng(0)
    model = Factors(rng.normal(size=(train.shape[0], 8)), rng.normal(size=(train.shape[1], 8)))
    n = 2_000_000 if name != "dns" else 500_000
    users = rng.integers(0, train.shape[0], size=n)
    items = get_sampler(name).sample(movielens, users, seed=1, model=model)
    assert items.min() >= 0
    hit = np.asarray(train[users, items]).ravel()
    assert np.count_nonzero(hit) == 0


def test_same_seed_same_draws_and_other_seed_differs(movielens):
    users = np.arange(movielens.n_users).repeat(20)
    for sampler in (Uniform(), Popularity(0.75), NBPO()):
        a = sampler.sample(movielens, users, seed=42)
        b = sampler.sample(movielens, users, seed=42)
        c = sampler.sample(movielens, users, seed=43)
        np.testing.assert_array_equal(a, b)
        assert (a != c).mean() > 0.5


def test_user_with_every_item_gets_minus_one():
    m = sp.csr_matrix(np.array([[1, 1, 1], [1, 0, 0]], dtype=np.float32))
    data = rs.Interactions.from_csr(m)
    model = Factors(np.ones((2, 2)), np.ones((3, 2)))
    for sampler in (Uniform(), Popularity(1.0), DNS(3), NBPO()):
        got = sampler.sample(data, [0, 1, 1], seed=0, model=model)
        assert got[0] == -1
        assert set(got[1:]) <= {1, 2}


def test_dense_rows_use_rank_mapping_and_stay_uniform():
    # a user holding 90 of 100 items goes through the r-th non-positive path
    n_items = 100
    owned = np.sort(np.random.default_rng(0).choice(n_items, 90, replace=False))
    m = sp.csr_matrix((np.ones(90, np.float32), (np.zeros(90, int), owned)), shape=(1, n_items))
    items = Uniform().sample(m, np.zeros(100_000, int), seed=9)
    free = np.setdiff1d(np.arange(n_items), owned)
    counts = _counts(items, n_items)
    assert counts[owned].sum() == 0
    assert stats.chisquare(counts[free]).pvalue > P_MIN


@pytest.mark.parametrize("make, message", [
    (lambda: DNS(candidates=0), "candidates"),
    (lambda: DNS(candidates=2.5), "candidates"),
    (lambda: DNS(temperature=0.0), "temperature"),
    (lambda: DNS(temperature=-1.0), "temperature"),
    (lambda: Popularity(alpha=-0.5), "alpha"),
    (lambda: Popularity(alpha=float("nan")), "alpha"),
    (lambda: NBPO(flip_factors=0), "flip_factors"),
    (lambda: NBPO(lambda_phi=-1.0), "lambda_phi"),
])
def test_bad_parameters_name_the_argument(small, make, message):
    with pytest.raises(ValueError, match=message):
        make().sample(small, [0], seed=0, model=Factors(np.ones((4, 2)), np.ones((12, 2))))


def test_unknown_sampler_name_suggests_the_closest():
    with pytest.raises(ValueError, match="did you mean 'popularity'"):
        get_sampler("popularty")


def test_dns_needs_a_model(small):
    with pytest.raises(ValueError, match="model="):
        DNS().sample(small, [0], seed=0)


def test_sample_rejects_users_out_of_range(small):
    with pytest.raises(ValueError, match="users must lie in"):
        Uniform().sample(small, [4], seed=0)


@pytest.mark.parametrize("sampler", [Uniform(), Popularity(0.75), DNS(4), NBPO()])
def test_membership_bitmap_and_row_bisection_give_identical_draws(movielens, sampler):
    from recsample.samplers.base import positives_of, sample_users
    m = movielens.matrix
    rng = np.random.default_rng(2)
    U = rng.normal(size=(m.shape[0], 4)).astype(np.float32)
    V = rng.normal(size=(m.shape[1], 4)).astype(np.float32)
    users = rng.integers(0, m.shape[0], size=200_000)
    no_positive = np.full(users.shape[0], -1)
    state = sampler.prepare(m, n_factors=4, seed=0)
    with_bits = sample_users(state, positives_of(m, bitmap=True), users, no_positive, U, V,
                             np.uint64(3))
    without = sample_users(state, positives_of(m, bitmap=False), users, no_positive, U, V,
                           np.uint64(3))
    np.testing.assert_array_equal(with_bits, without)


def test_alias_table_encodes_the_weights_exactly():
    from recsample.samplers.popularity import alias_table
    w = np.random.default_rng(5).pareto(1.2, size=997) ** 2
    w[::7] = 0.0
    prob, alias = alias_table(w)
    n = len(w)
    implied = prob.copy()
    np.add.at(implied, alias, 1.0 - prob)
    np.testing.assert_allclose(implied / n, w / w.sum(), rtol=1e-9, atol=1e-12)


def test_frame_stream_starts_where_stream_starts():
    from numba import njit
    from recsample._rng import frame_stream, next_u64, stream

    @njit
    def both(seed, epoch, block):
        a = stream(seed, epoch, block)
        b = frame_stream(seed, epoch, block)
        out = np.empty((2, 3), dtype=np.uint64)
        for t in range(3):
            out[0, t] = next_u64(a)
            out[1, t] = next_u64(b)
        return out

    for args in [(0, 0, 0), (1, 2, 3), (2**40, 7, 12345)]:
        out = both(*args)
        assert np.array_equal(out[0], out[1])
    assert not np.array_equal(both(0, 0, 0)[0], both(0, 0, 1)[0])


def test_membership_bisection_is_exact_for_every_row_length():
    from numba import njit

    from recsample.samplers.base import in_sorted_row

    @njit
    def member(indices, start, end, j):
        return in_sorted_row(indices, start, end, j)

    rng = np.random.default_rng(3)
    for length in list(range(0, 18)) + [31, 32, 33, 100]:
        row = np.sort(rng.choice(200, size=length, replace=False)).astype(np.int32)
        # the row sits inside a longer array, as a CSR row does
        indices = np.concatenate([np.array([7, 9], np.int32), row, np.array([1, 2], np.int32)])
        members = set(row.tolist())
        for j in range(-1, 201):
            assert member(indices, 2, 2 + length, j) == (j in members), (length, j)


# ------------------------------------------------------- arguments per loss
def _loss_cases():
    """(sampler name, loss, arguments) of every loss_arguments entry."""
    cases = [(name, loss, args) for name, cls in rs.samplers.SAMPLERS.items()
             for loss, args in cls.loss_arguments.items()]
    # the entries this test guards (the group losses' DNS, SRNS, AOBPR, WARP,
    # Importance; the pair losses' k-OS): an empty table would make it pass
    # without checking anything
    assert {(n, loss) for n, loss, _ in cases} >= {("dns", "ccl"), ("dns", "softmax"),
                                                   ("srns", "ccl"), ("srns", "softmax"),
                                                   ("aobpr", "ccl"), ("warp", "ccl"),
                                                   ("importance", "ccl"),
                                                   ("kos", "bpr"), ("kos", "bpo")}
    return cases


@pytest.mark.parametrize("name, loss, args", _loss_cases())
def test_a_sampler_named_for_a_loss_takes_its_arguments_for_that_loss(name, loss, args):
    from recsample.registry import load
    cls = rs.samplers.SAMPLERS[name]
    built = get_sampler(name, loss)
    assert built == cls(**args)
    assert built != cls(), "an entry equal to the constructor's defaults changes nothing"
    # a loss without an entry, or no loss, gets the constructor's defaults
    others = [m for m in ("bpr", "bpo", "ccl", "softmax") if m not in cls.loss_arguments]
    assert others, "every loss has an entry: nothing left to check the defaults with"
    assert all(get_sampler(name, other) == cls() for other in others)
    assert get_sampler(name) == cls()
    # an instance is the user's choice and is kept as it is
    mine = cls()
    assert get_sampler(mine, loss) is mine
    # the trainer of that loss asks for it by its loss name
    assert any(load("model", m).loss == loss for m in rs.registry.names("model"))


def test_a_trainer_fits_with_the_samplers_arguments_for_its_loss(small):
    ccl = rs.CCL(sampler="dns", epochs=1, negatives=4, factors=4, n_threads=1).fit(
        small, progress=False)
    assert ccl.sampler_ == DNS(**DNS.loss_arguments["ccl"])
    bpr = rs.BPR(sampler="dns", epochs=1, factors=4, n_threads=1).fit(small, progress=False)
    assert bpr.sampler_ == DNS()
    # a pair loss's entry, with the trainer settings the sampler recommends
    kos = rs.BPR(sampler="kos", epochs=1, factors=4, n_threads=1).fit(small, progress=False)
    assert kos.sampler_ == KOS(n_positives=2, k=1)
    assert kos.effective_params()["regularization"] == KOS.recommended["bpr"]["regularization"] == 0.3
    mine = DNS(candidates=5)
    assert rs.CCL(sampler=mine, epochs=1, negatives=4, factors=4,
                  n_threads=1).fit(small, progress=False).sampler_ is mine


def test_tune_and_experiment_grids_build_a_named_sampler_for_the_trainers_loss():
    from recsample.experiments.grid import normalize_config
    from recsample.tuning._setup import _fixed_params
    _, sampler = _fixed_params(rs.CCL, {}, None, "dns", True)
    assert sampler == DNS(**DNS.loss_arguments["ccl"])
    config = normalize_config({"model": "ccl", "sampler": "dns"})
    assert config.sampler_obj == DNS(**DNS.loss_arguments["ccl"])
    assert config.build(0).sampler == DNS(**DNS.loss_arguments["ccl"])
    # the loss's own arguments are its defaults, not a change in the grid's key
    assert "sampler" not in config.params
