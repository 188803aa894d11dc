"""The sampler contract: one state type per sampler, a few compiled hooks.

A sampler is a small Python object (its parameters) that prepares a *state*
from the training data: an instance of its own ``namedtuple`` class holding
plain numbers and arrays. The trainers' compiled loop calls generic
functions on that state; each sampler file registers its own versions of them
with :func:`numba.extending.overload`, keyed on the state's class:

``draw(state, pos, u, i, U, V, rng) -> j``
    One negative item for user ``u`` drawn for the positive ``i`` (never a
    training positive of ``u``), or ``-1`` when ``u`` has no item left to
    draw. ``pos`` holds the training positives (:class:`Positives`; test
    membership with :func:`is_positive`), ``U``/``V`` are the current
    user/item factors (a folded item-bias column included), ``rng`` the
    block's random stream (see :mod:`recsample._rng`). ``i`` is ``-1`` when
    the draw is for no particular positive (``Sampler.sample`` without
    ``positives=``); samplers that compare against x_ui (WARP) need it.

``choose_positive(state, pos, u, i, U, V, rng) -> i'``
    The positive that the pair loss trains for this visit of (u, i), called
    once per visit before its draws: ``i`` itself unless a sampler registers
    its own (k-OS: the k-th highest-scored of K positives of u). Its
    negatives are drawn for, and its pairs trained on, the returned item,
    which must be a training positive of ``u``. The default is inlined as
    ``i``, so it costs nothing. Group losses (Softmax, CCL) train a unit's
    given positives and never call it; they refuse a sampler whose class sets
    ``chooses_positive = True``.

``pair_weight(state, u, i, j) -> float``
    A multiplier of the pair's objective (and so of both its derivatives),
    called right after ``draw`` returned ``j`` in the same thread; 1 unless a
    sampler registers its own (WARP: L(rank estimate)). It is applied by the
    default ``pair_step``/``pair_loss`` below, so any pair loss gets it; a
    weight is a property of the *draw*, unlike a learning ``pair_step``.

``pair_step(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate) -> (g_i, g_j)``
    The derivatives of the pair's objective with respect to the scores
    ``x_ui``, ``x_uj`` (ascent direction). A learning sampler also updates its
    own parameters here (or accumulates their gradients when ``accumulate`` is
    true, for the batch optimizer).

``pair_loss(state, loss, u, i, j, x_ui, x_uj, clip) -> value``
    The pair's loss, for reporting only. The trainer calls it on a fixed
    1-in-8 sample of the pairs: a logarithm per pair would cost more than a
    tenth of the epoch.

``end_batch(state, lr)``
    Applies accumulated gradients of a learning sampler (batch optimizer).

``refresh(state, pos, U, V, seed, epoch, end_of_epoch)``
    Rebuilds whatever a sampler derives from the whole model (AOBPR's
    per-factor orderings, SRNS's candidate memory). The trainer calls it with
    ``end_of_epoch=False`` before the first draw of every epoch and then
    after every ``Sampler.refresh_interval(state)`` draws (when that is
    positive), and with ``end_of_epoch=True`` after the epoch's last draw.
    No-op unless the state class sets ``refreshes = True``.

``log_q(state, pos, u, j) -> float``
    ln of the probability that one ``draw`` for user ``u`` returns ``j``; the
    sampled-softmax loss subtracts it from the negative's logit (the logQ
    correction, Yi et al., RecSys 2019). A sampler that registers none is
    taken as uniform over the user's non-positives: exact for
    :class:`Uniform`, and for samplers that score uniform candidates (DNS,
    NBPO) the probability of the proposal they draw from.

A hook that writes into an array of its state must write in a function it
calls: a store in the hook's own body, inlined into the trainer's parallel
loop, was dropped with numba 0.68 (WARP's weights, until moved).

A state class may set ``blind = True`` when its ``draw`` reads nothing but
``pos``, ``u`` and ``rng`` (Uniform, Popularity): the pair loss then draws
each negative one pair early and starts loading its row, which gives the same
draws in the same order, so the same results (6-11% less time per pair on
movielens-small, one thread). A blind sampler may also register

``peek(state, pos, rng) -> j``
    The item its next ``draw`` will propose first, read from ``rng`` without
    advancing it (:func:`recsample._rng.peek_float`), or ``-1``. The pair
    loss uses it only to start loading that item's row and the membership
    word the draw will test, one more pair ahead; a wrong guess costs a
    wasted load and changes no value. The default returns ``-1``.

Any sampler may register

``prefetch(state, pos, u, i, U, V)``
    Called by the trainer with the user and first positive of the unit it
    will visit ``PREFETCH_AHEAD`` (8) units later in the same block, when it
    starts loading that unit's factor rows (a block's first units are not
    announced): start loading what ``draw`` will read for (u, i) from the
    sampler's own arrays, with :func:`recsample._intrinsics.prefetch_row`.
    It must change no value. The default does nothing. (SRNS: the user's
    candidate memory and record counts.)

Stateless samplers need only ``draw``: the versions of ``pair_step``,
``pair_loss`` and ``end_batch`` below serve every state class that does not set the class
attribute ``learns = True``. The trainer is compiled once per state type and
cached on disk, so adding a sampler is one new file and no trainer changes.
"""
from __future__ import annotations

import inspect
import math
from collections import namedtuple

import numba
import numpy as np
from numba import njit
from numba.extending import overload

from .._checks import check_ids
from .._params import Params
from .._inline import inline_overload
from .._intrinsics import borrow
from .._rng import next_int, stream

BPR_LOSS = 0
BPO_LOSS = 1
LOSSES = {"bpr": BPR_LOSS, "bpo": BPO_LOSS}


# --------------------------------------------------------------- generic hooks
def draw(state, pos, u, i, U, V, rng):  # pragma: no cover - compiled only
    """Generic negative draw; each sampler registers an implementation."""
    raise NotImplementedError("draw() is only callable from compiled code")


def choose_positive(state, pos, u, i, U, V, rng):  # pragma: no cover
    """Generic choice of the positive of a visit; see the module docstring."""
    raise NotImplementedError("choose_positive() is only callable from compiled code")


def pair_weight(state, u, i, j):  # pragma: no cover
    """Generic per-pair weight of the last draw; see the module docstring."""
    raise NotImplementedError("pair_weight() is only callable from compiled code")


def refresh(state, pos, U, V, seed, epoch, end_of_epoch):  # pragma: no cover
    """Generic whole-model refresh of a sampler's state; see the module docstring."""
    raise NotImplementedError("refresh() is only callable from compiled code")


def pair_step(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate):  # pragma: no cover
    """Generic per-pair gradient hook; see the module docstring."""
    raise NotImplementedError("pair_step() is only callable from compiled code")


def end_batch(state, lr):  # pragma: no cover
    """Generic end-of-batch hook; see the module docstring."""
    raise NotImplementedError("end_batch() is only callable from compiled code")


def pair_loss(state, loss, u, i, j, x_ui, x_uj, clip):  # pragma: no cover
    """Generic per-pair loss for reporting; see the module docstring."""
    raise NotImplementedError("pair_loss() is only callable from compiled code")


def peek(state, pos, rng):  # pragma: no cover
    """Generic guess of a blind sampler's next proposal; see the module docstring."""
    raise NotImplementedError("peek() is only callable from compiled code")


def prefetch(state, pos, u, i, U, V):  # pragma: no cover
    """Generic hint to start loading a later draw's data; see the module docstring."""
    raise NotImplementedError("prefetch() is only callable from compiled code")


def log_q(state, pos, u, j):  # pragma: no cover
    """Generic per-draw log-probability; see the module docstring."""
    raise NotImplementedError("log_q() is only callable from compiled code")


#: (hook, state class) pairs registered with :func:`implements`, so that a
#: hook's default can step aside for a class that registered its own
_REGISTERED = set()


def implements(hook, state_class):
    """Register the decorated function as ``hook``'s compiled implementation
    for states of ``state_class`` (a sampler's own namedtuple class)::

        @implements(draw, UniformState)
        def _draw(state, pos, u, i, U, V, rng):
            return uniform_negative(pos, u, rng)

    The function keeps the hook's signature; numba compiles it into every
    trainer that is called with such a state.
    """
    def decorator(impl):
        _REGISTERED.add((hook, state_class))

        def select(*args):
            if getattr(args[0], "instance_class", None) is state_class:
                return impl
            return None
        # numba matches the typing function's signature against the impl's
        select.__signature__ = inspect.signature(impl)
        inline_overload(hook)(select)
        return impl
    return decorator


def state_kernel(parallel=False, **options):
    """``njit`` for a kernel whose first argument is a sampler state.

    The disk cache keeps one index per kernel listing every state type it was
    compiled for, and loading that index re-imports each type's module. A
    state class defined in a user's script, notebook or test module would make
    the index unreadable for every other process, so only recsample's own
    state types are compiled with ``cache=True``; any other state gets a
    compilation of the same kernel that lives in memory only.
    """
    def wrap(fn):
        return state_dispatch(njit(cache=True, parallel=parallel, **options)(fn),
                              njit(cache=False, parallel=parallel, **options)(fn), fn)
    return wrap


def state_dispatch(cached, fresh, fn):
    """The Python entry point of a state kernel compiled twice, ``cached``
    (disk-cached, for recsample's own state types) and ``fresh`` (in memory,
    for any other): see :func:`state_kernel`. ``fn`` lends its name and
    docstring."""
    def call(state, *args):
        # a kernel loaded from the disk cache that calls numba.get_thread_id()
        # (per-thread scratch of DNS(M, N), WARP) crashes unless the
        # threading layer is up; this starts it (a no-op after the first call)
        numba.get_num_threads()
        own = type(state).__module__.startswith("recsample.")
        return (cached if own else fresh)(state, *args)
    call.cached = cached
    call.fresh = fresh
    call.__doc__ = fn.__doc__
    call.__name__ = fn.__name__
    call.__wrapped__ = fn
    return call


def _flag(state, name) -> bool:
    return bool(getattr(getattr(state, "instance_class", None), name, False))


def _learns(state) -> bool:
    return _flag(state, "learns")


def is_blind(state) -> bool:
    """True for a state whose class sets ``blind = True``: its ``draw`` reads
    only ``pos``, ``u`` and the random stream (never the factors, its own
    mutable arrays or ``i``), and it keeps every default hook. The pair loss
    then draws each negative one pair ahead (same values, earlier loads)."""
    return (_flag(state, "blind") and not _flag(state, "learns")
            and not _flag(state, "chooses") and not _flag(state, "weighs")
            and not _flag(state, "refreshes"))


@inline_overload(choose_positive)
def _choose_visited(state, pos, u, i, U, V, rng):
    if _flag(state, "chooses"):
        return None

    def impl(state, pos, u, i, U, V, rng):
        return i  # the visited positive: inlined, nothing is computed
    return impl


@inline_overload(pair_weight)
def _pair_weight_one(state, u, i, j):
    if _flag(state, "weighs"):
        return None

    def impl(state, u, i, j):
        return 1.0  # a constant: LLVM folds the multiplication away
    return impl


@overload(pair_step)
def _pair_step_fixed(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate):
    if _learns(state):
        return None

    def impl(state, loss, u, i, j, x_ui, x_uj, lr, clip, accumulate):
        g_i, g_j = loss_gradients(loss, x_ui, x_uj, clip)
        w = pair_weight(state, u, i, j)
        return w * g_i, w * g_j
    return impl


@overload(pair_loss)
def _pair_loss_fixed(state, loss, u, i, j, x_ui, x_uj, clip):
    if _learns(state):
        return None

    def impl(state, loss, u, i, j, x_ui, x_uj, clip):
        return pair_weight(state, u, i, j) * loss_value(loss, x_ui, x_uj)
    return impl


@overload(refresh)
def _refresh_nothing(state, pos, U, V, seed, epoch, end_of_epoch):
    if _flag(state, "refreshes"):
        return None

    def impl(state, pos, U, V, seed, epoch, end_of_epoch):
        return None
    return impl


@overload(end_batch)
def _end_batch_fixed(state, lr):
    if _learns(state):
        return None

    def impl(state, lr):
        return None
    return impl


@inline_overload(peek)
def _peek_nothing(state, pos, rng):
    # the default only for classes that registered no peek of their own
    if (peek, getattr(state, "instance_class", None)) in _REGISTERED:
        return None

    def impl(state, pos, rng):
        return -1  # a constant: the prefetch behind it is compiled away
    return impl


@inline_overload(prefetch)
def _prefetch_nothing(state, pos, u, i, U, V):
    # the default only for classes that registered no prefetch of their own
    if (prefetch, getattr(state, "instance_class", None)) in _REGISTERED:
        return None

    def impl(state, pos, u, i, U, V):
        return None
    return impl


@overload(log_q)
def _log_q_uniform(state, pos, u, j):
    if getattr(getattr(state, "instance_class", None), "has_log_q", False):
        return None

    def impl(state, pos, u, j):
        free = pos.n_items - (pos.indptr[u + 1] - pos.indptr[u])
        return -math.log(max(free, 1))
    return impl


# ------------------------------------------------------------ shared maths
@njit(cache=True, inline="always")
def sigmoid(x, clip):
    """Logistic function, without a data-dependent branch in the common path.
    With ``clip`` > 0 it is 0 below -clip and 1 above clip, as in the NBPO
    authors' code (their clip is 10)."""
    e = math.exp(-abs(x))
    r = 1.0 / (1.0 + e)
    s = r if x >= 0.0 else e * r
    if clip > 0.0:
        if x > clip:
            s = 1.0
        elif x < -clip:
            s = 0.0
    return s


@njit(cache=True, inline="always")
def log_sigmoid(x):
    """ln sigma(x), stable for large |x|."""
    return -math.log1p(math.exp(-abs(x))) + min(x, 0.0)


@njit(cache=True, inline="always")
def loss_gradients(loss, x_ui, x_uj, clip):
    """(d/dx_ui, d/dx_uj) of one pair for the trainer's own objective.

    BPR: maximise ln sigma(x_ui - x_uj)      -> g_i = sigma(x_uj - x_ui) = -g_j
    BPO: maximise ln sigma(x_ui) + ln(1 - sigma(x_uj))
                                              -> g_i = sigma(-x_ui), g_j = -sigma(x_uj)
    """
    if loss == BPR_LOSS:
        g = sigmoid(x_uj - x_ui, clip)
        return g, -g
    return sigmoid(-x_ui, clip), -sigmoid(x_uj, clip)


@njit(cache=True, inline="always")
def loss_value(loss, x_ui, x_uj):
    """The negative of the maximised term: -ln sigma(x_ui - x_uj) for BPR,
    -ln sigma(x_ui) - ln(1 - sigma(x_uj)) for BPO."""
    if loss == BPR_LOSS:
        return -log_sigmoid(x_ui - x_uj)
    return -log_sigmoid(x_ui) - log_sigmoid(-x_uj)


# ------------------------------------------------------ membership and draws
#: The training positives as the compiled code sees them: the CSR row
#: pointers and sorted column indices, the number of items, and optionally a
#: users x items bitmap (``words`` uint64 words per user) that answers
#: membership with one memory read instead of a bisection of the row.
Positives = namedtuple("Positives", ["indptr", "indices", "n_items", "bits", "words"])

#: A bitmap is built when it needs at most this many bytes, or at most as many
#: as the CSR's column indices, whichever is larger.
BITMAP_MIN_BUDGET = 16 * 2**20


@njit(cache=True)
def _fill_bitmap(indptr, indices, bits, words):
    for u in range(indptr.shape[0] - 1):
        base = u * words
        for k in range(indptr[u], indptr[u + 1]):
            j = indices[k]
            bits[base + (j >> 6)] |= np.uint64(1) << np.uint64(j & 63)


def positives_of(matrix, bitmap=None) -> Positives:
    """The :class:`Positives` of a canonical CSR matrix. ``bitmap=None``
    builds the membership bitmap when it fits the budget above; True/False
    force it on or off."""
    n_users, n_items = matrix.shape
    words = (n_items + 63) // 64
    size = n_users * words * 8
    if bitmap is None:
        bitmap = size <= max(BITMAP_MIN_BUDGET, matrix.indices.nbytes)
    if bitmap:
        bits = np.zeros(n_users * words, dtype=np.uint64)
        _fill_bitmap(matrix.indptr, matrix.indices, bits, words)
    else:
        bits = np.zeros(0, dtype=np.uint64)
        words = 0
    return Positives(matrix.indptr, matrix.indices, np.int64(n_items), bits, np.int64(words))


@njit(cache=True, inline="always")
def _last_at_most(indices, start, n, j):
    """The last position p in the sorted row indices[start:start + n] (n >= 1)
    with indices[p] <= j, or ``start`` when there is none. A bisection whose
    steps depend only on the row's length: each step is a conditional move,
    not a branch the processor would mispredict half the time (a uniform
    draw on Gowalla: 70-108 -> 43-46 ns)."""
    base = start
    while n > 1:
        half = n >> 1
        base = base + half if indices[base + half] <= j else base
        n -= half
    return base


@njit(cache=True, inline="always")
def in_sorted_row(indices, start, end, j):
    """Exact membership of item ``j`` in the sorted CSR row indices[start:end]."""
    if end <= start:
        return False
    return indices[_last_at_most(indices, start, end - start, j)] == j


@njit(cache=True, inline="always")
def position_in_row(indices, start, end, j):
    """Index of item ``j`` in the sorted CSR row indices[start:end], or -1."""
    if end <= start:
        return -1
    p = _last_at_most(indices, start, end - start, j)
    return p if indices[p] == j else -1


@njit(cache=True, inline="always")
def positives_arrays(pos):
    """(indptr, indices, bits) of ``pos``, borrowed (``_intrinsics.borrow``):
    for draws that read them in a loop without a reference count per read."""
    return borrow(pos.indptr), borrow(pos.indices), borrow(pos.bits)


@njit(cache=True, inline="always")
def bit_is_set(bits, row, j):
    """Bit j of the bitmap row starting at word ``row``."""
    w = bits[row + (j >> 6)]
    return (w >> np.uint64(j & 63)) & np.uint64(1) != np.uint64(0)


@njit(cache=True, inline="always")
def is_positive(pos, u, j):
    """Is item ``j`` a training positive of user ``u``? Exact either way."""
    if pos.words > 0:
        return bit_is_set(pos.bits, u * pos.words, j)
    return in_sorted_row(pos.indices, pos.indptr[u], pos.indptr[u + 1], j)


@njit(cache=True, inline="always")
def nth_negative(indices, start, end, r):
    """The r-th (0-based) item not in the sorted row indices[start:end].

    Before the k-th positive p_k there are p_k - k non-positives, so the answer
    is r + (number of positives with p_k - k <= r), found by bisection.
    """
    lo = 0
    hi = end - start
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[start + mid] - mid <= r:
            lo = mid + 1
        else:
            hi = mid
    return r + lo


@njit(cache=True, inline="always")
def draw_non_positive(indices, bits, words, n_items, u, start, deg, rng):
    """j ~ U(items \\ I_u) for u, whose deg >= 1 positives are the sorted
    indices[start:start + deg] (and its bitmap row when ``words`` > 0), with
    at least one non-positive. Sparse rows use rejection (fewer than two
    tries expected); rows holding more than half of the catalogue map a
    uniform rank to the r-th non-positive instead, so the cost stays
    O(log |I_u|) for any density.

    It takes the positives' arrays rather than ``pos`` so that a draw loop
    can take them out of ``pos`` once: each use of ``pos.bits`` or
    ``pos.indices`` inside a loop takes and releases a reference on the
    array (an atomic update of a counter every thread shares), which WARP's
    draw loop paid per draw."""
    if 2 * deg <= n_items:
        row = u * words
        while True:
            j = next_int(rng, n_items)
            if words > 0:
                if not bit_is_set(bits, row, j):
                    return j
            elif not in_sorted_row(indices, start, start + deg, j):
                return j
    return nth_negative(indices, start, start + deg, next_int(rng, n_items - deg))


@njit(cache=True, inline="always")
def uniform_negative(pos, u, rng):
    """j ~ U(items \\ I_u), or -1 when u has every item (see
    :func:`draw_non_positive`)."""
    n_items = pos.n_items
    start = pos.indptr[u]
    end = pos.indptr[u + 1]
    deg = end - start
    if deg >= n_items:
        return -1
    # written out rather than calling draw_non_positive: taking the arrays
    # out of ``pos`` for every draw cost the uniform trainer 1.5% of its time
    # in reference counts (perf, one thread, movielens-small)
    if 2 * deg <= n_items:
        while True:
            j = next_int(rng, n_items)
            if not is_positive(pos, u, j):
                return j
    return nth_negative(pos.indices, start, end, next_int(rng, n_items - deg))


_FAST = {"reassoc", "contract", "nsz", "arcp"}  # lets LLVM vectorise the reductions


@njit(cache=True, fastmath=_FAST)
def dot(U, u, V, j):
    """U[u] . V[j] in float32.

    Indexed in two dimensions, not through row views: a view takes and
    releases a reference on the array (an atomic update of a counter all
    threads share) that LLVM does not always remove, and WARP's draw loop
    paid eight of them per candidate."""
    acc = np.float32(0.0)
    for f in range(U.shape[1]):
        acc += U[u, f] * V[j, f]
    return acc


@njit(cache=True, fastmath=_FAST)
def dot2(U, u, V, i, j):
    """(U[u] . V[i], U[u] . V[j]) in one pass over U[u] (indexed as in :func:`dot`)."""
    x = np.float32(0.0)
    y = np.float32(0.0)
    for f in range(U.shape[1]):
        a = U[u, f]
        x += a * V[i, f]
        y += a * V[j, f]
    return x, y


@state_kernel()
def sample_users(state, pos, users, items, U, V, seed):
    """One draw per entry of ``users`` (for the positive in ``items``, or -1)
    on a single stream (seed, 0, 0), after one refresh of the state."""
    refresh(state, pos, U, V, seed, 0, False)
    out = np.empty(users.shape[0], dtype=np.int64)
    rng = stream(seed, 0, 0)
    for t in range(users.shape[0]):
        out[t] = draw(state, pos, users[t], items[t], U, V, rng)
    return out


@state_kernel()
def choose_users(state, pos, users, items, U, V, seed):
    """``choose_positive`` for each (users[t], items[t]) on a single stream
    (seed, 0, 0), after one refresh of the state (for inspection and tests)."""
    refresh(state, pos, U, V, seed, 0, False)
    out = np.empty(users.shape[0], dtype=np.int64)
    rng = stream(seed, 0, 0)
    for t in range(users.shape[0]):
        out[t] = choose_positive(state, pos, users[t], items[t], U, V, rng)
    return out


@state_kernel()
def log_q_users(state, pos, users, items):
    """``log_q`` for aligned arrays of users and items (for inspection and tests)."""
    out = np.empty(users.shape[0])
    for t in range(users.shape[0]):
        out[t] = log_q(state, pos, users[t], items[t])
    return out


@state_kernel()
def run_refresh(state, pos, U, V, seed, epoch, end_of_epoch):
    """The trainers' entry point to the ``refresh`` hook."""
    refresh(state, pos, U, V, seed, epoch, end_of_epoch)


# ------------------------------------------------------------ Python side
class Sampler(Params):
    """Base class of the negative samplers.

    Subclasses set ``name``, declare their hyper-parameters as keyword
    arguments of ``__init__`` with their defaults (and only store them there,
    each under its own name: ``get_params``, ``set_params``, ``repr`` and
    equality read that signature) and implement :meth:`prepare`, which returns the
    state the compiled hooks read. ``needs_model`` marks samplers whose draw
    reads the current factors.
    """

    name = "base"
    needs_model = False
    needs_positive = False
    learns = False
    #: replaces the positive of each pair (the ``choose_positive`` hook); the
    #: group losses refuse such a sampler
    chooses_positive = False
    #: Ranges ``rs.tune`` searches for this sampler's parameters (see
    #: recsample.search_space); empty for a sampler without any.
    search_space = {}
    #: Trainer settings this sampler recommends, per pair loss:
    #: ``{"bpr": {"learning_rate": ..., "regularization": ..., "epochs": ...}}``
    #: (any subset of the three). A pair trainer (``rs.BPR``, ``rs.BPO``)
    #: trained with ``optimizer="sgd"`` and dot-product scores takes them for
    #: the parameters its user left at None (their default); a value the user
    #: passes always wins, and a loss or optimizer without an entry keeps the
    #: trainer's own default. Each entry states where it was measured
    #: (``benchmarks/studies/tune_per_sampler.py``); it was measured at the sampler's
    #: own default parameters. Empty: the trainer's defaults.
    recommended = {}

    def space(self) -> dict:
        """The ranges ``rs.tune`` searches for this instance: the class's
        ``search_space``, narrowed by a sampler whose other parameters bound
        them (DNS(M, N) needs N >= M; k-OS needs k <= K)."""
        return dict(type(self).search_space)

    def prepare(self, train, n_factors=None, seed=0, batch=False):
        """Build the compiled state for ``train`` (Interactions or CSR).

        ``n_factors`` is the width of the model's factor rows, ``seed`` seeds
        any parameters the sampler learns, and ``batch`` says the trainer runs
        the batch optimizer (a learning sampler then keeps gradient buffers).
        """
        raise NotImplementedError

    def fold_in_state(self, state, rows, item_counts, n_factors=None, seed=0):
        """The state that folds new users in (``FactorModel.fold_in``): the
        item side as the model was trained, the user side for ``rows`` (a
        canonical CSR of the new users over the model's items). ``state`` is
        the state the model was trained with (None for a loaded model whose
        sampler keeps none), ``item_counts`` the training positives per item
        (None for a model saved by an older recsample). The folding runs the
        batch optimizer, so a learning sampler keeps gradient buffers.
        Default: ``prepare(rows)``, right for a sampler whose state depends
        on nothing but each user's own row and the factors."""
        return self.prepare(rows, n_factors=n_factors, seed=seed, batch=True)

    def refresh_interval(self, state) -> int:
        """Draws between two calls of the ``refresh`` hook within an epoch;
        0 (the default) refreshes only at the epoch's start and end."""
        return 0

    def worker_state(self, state, worker):
        """The state training thread ``worker`` (0, 1, ... below
        ``numba.config.NUMBA_NUM_THREADS``) draws with. The trainer runs its
        blocks on a pool of threads; a sampler that keeps scratch per thread
        (WARP's last weight, DNS's Softmax-v keys) returns ``state`` with
        that thread's own rows, each of the same type as the whole. Default:
        ``state`` itself, shared."""
        return state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def __eq__(self, other):
        return type(self) is type(other) and self.get_params() == other.get_params()

    def __hash__(self):
        return hash((type(self).__name__, tuple(sorted(self.get_params().items()))))

    def sample(self, train, users, seed=0, model=None, positives=None) -> np.ndarray:
        """Draw one negative per entry of ``users`` with the same compiled draw
        the trainers use. Returns int64 item ids (-1 for a user with every item
        positive). ``model`` (a fitted recsample model, or any object with
        ``user_factors``/``item_factors``) is needed by samplers that score
        candidates; ``positives`` (one item per entry of ``users``) is the
        positive each negative is drawn against, needed by samplers that
        compare with its score (``needs_positive``)."""
        matrix = as_csr(train, "train")
        users = check_users(users, matrix.shape[0])
        if seed is None or int(seed) < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if positives is None:
            if self.needs_positive:
                raise ValueError(f"{type(self).__name__} compares each negative with the score "
                                 "of a positive: pass positives= (one item per user entry)")
            items = np.full(users.shape[0], -1, dtype=np.int64)
        else:
            items = np.asarray(positives).reshape(-1)
            if items.size and (not np.issubdtype(items.dtype, np.integer) or items.min() < 0
                               or items.max() >= matrix.shape[1]):
                raise ValueError(f"positives must be integer item ids in [0, {matrix.shape[1]})")
            items = items.astype(np.int64, copy=False)
            if items.shape != users.shape:
                raise ValueError(f"positives must have one item per entry of users, got "
                                 f"{items.shape} for {users.shape}")
        U, V = _factors_for(self, model, matrix)
        state = self.prepare(matrix, n_factors=U.shape[1], seed=int(seed))
        return sample_users(state, positives_of(matrix), users, items, U, V, np.uint64(seed))


def as_csr(data, name, shape=None):
    """The canonical CSR matrix of an Interactions or a scipy sparse matrix,
    from the one helper every entry point shares
    (:func:`recsample.interactions.as_csr`): a raw matrix with NaN, infinite
    or negative values is refused with ``name`` in the message, and its
    explicit zeros are dropped (a stored 0 is no interaction), so no trainer
    or sampler reads such an entry as a positive."""
    from ..interactions import as_csr as canonical_csr
    return canonical_csr(data, name, shape)


def check_users(users, n_users, name="users"):
    """``users`` as an int64 1-d array of ids in [0, n_users) (``n_users``
    None: any id >= 0); see :func:`recsample._checks.check_ids`."""
    return check_ids(users, n_users, name)


def _factors_for(sampler, model, matrix):
    n_users, n_items = matrix.shape
    if model is None:
        if sampler.needs_model:
            raise ValueError(f"{type(sampler).__name__} scores candidates with the model's factors: "
                             "pass model= (a fitted model or an object with user_factors/item_factors)")
        return (np.zeros((n_users, 1), dtype=np.float32), np.zeros((n_items, 1), dtype=np.float32))
    U = getattr(model, "user_factors", None)
    V = getattr(model, "item_factors", None)
    if U is None or V is None:
        raise ValueError("model has no user_factors/item_factors: fit it first")
    U = np.ascontiguousarray(U, dtype=np.float32)
    V = np.ascontiguousarray(V, dtype=np.float32)
    if U.shape[0] != n_users or V.shape[0] != n_items or U.shape[1] != V.shape[1]:
        raise ValueError(f"model factors {U.shape} / {V.shape} do not match train's shape "
                         f"{matrix.shape}")
    return U, V
