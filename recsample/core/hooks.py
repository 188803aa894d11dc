"""The sampler contract: one state type per sampler, a few compiled hooks.

This module holds the hooks, their defaults, :func:`implements` and the
cache policy of the kernels that take a state (:func:`state_kernel`).

A sampler is a small Python object (its parameters) that prepares a *state*
from the training data: an instance of its own ``namedtuple`` class holding
plain numbers and arrays. The trainers' compiled loop calls generic
functions on that state; each sampler file registers its own versions of them
with :func:`numba.extending.overload`, keyed on the state's class:

``draw(state, pos, u, i, U, V, rng) -> j``
    One negative item for user ``u`` drawn for the positive ``i`` (never a
    training positive of ``u``), or ``-1`` when ``u`` has no item left to
    draw. ``pos`` holds the training positives
    (:class:`~recsample.core.positives.Positives`; test membership with
    :func:`~recsample.core.positives.is_positive`), ``U``/``V`` are the
    current user/item factors (a folded item-bias column included), ``rng`` the
    block's random stream (see :mod:`recsample._rng`). ``i`` is ``-1`` when
    the draw is for no particular positive (``Sampler.sample`` without
    ``positives=``); samplers that compare against x_ui (WARP) need it.

``draw_group(state, pos, u, i, U, V, rng, items, start, n) -> bool``
    The ``n`` negatives of a group loss's unit (:mod:`recsample.losses`)
    into ``items[start:start + n]``: ``n`` independent draws for ``u`` given
    its first positive ``i``, each distributed as ``draw``'s; False when
    ``u`` has no item left to draw. The default (:func:`draw_each`) calls
    ``draw`` ``n`` times. A sampler that scores candidates may register its
    own to score the whole unit's candidates in one pass; it must draw from
    the distribution ``draw`` draws from. DNS's gives the very draws of the
    default on the same stream (a cosine model's user norm once, four rows
    per pass, the rows requested ahead).

``draw_group_scored(state, pos, u, i, U, V, rng, items, start, n, x, norms, k, width) -> int``
    ``draw_group``, for a sampler that scores its picks on the way: where its
    scores are the loop's own (``k`` > 0: the cosine of the first ``k``
    columns plus the item bias in column ``k`` when ``width`` > ``k``;
    ``k`` = 0: the dot product of the ``width`` columns), it writes each
    drawn item's score into ``x[start:start + n]`` and, for cosines, its
    row's length |V[j, :k]| into ``norms[start:start + n]``, and returns 2;
    the loop then scores only the unit's positives. It must return 2 only
    when its scores are of the kind ``k`` and ``width`` name, and must not
    write outside those slices. 1: drawn, not scored; 0: nothing drawn
    (``draw_group``'s False: no item left to draw, or for DNS every
    candidate scored NaN). The default calls ``draw_group`` and returns 1
    or 0. DNS's argmax (no temperature, M = 1, at most 256 candidates)
    returns 2 when it scores as the loop does: its picks were scored to be
    picked, and scoring them again cost 8-10% of a softmax epoch with
    DNS(2) on Gowalla (one thread;
    ``benchmarks/ab/bench_sampler_versions.py dns --softmax 256 8``).

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
    :class:`~recsample.samplers.Uniform`, and for samplers that score uniform candidates (DNS,
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

Stateless samplers need only ``draw``: the default ``end_batch`` below and
the default ``pair_step`` and ``pair_loss`` (with the pair losses' maths, in
:mod:`recsample.losses.pair`) serve every state class that does not set the
class attribute ``learns = True``. The trainer is compiled once per state
type and cached on disk, so adding a sampler is one new file and no trainer
changes.
"""
from __future__ import annotations

import inspect
import math

import numba
from numba import njit
from numba.extending import overload

from .._inline import inline_overload


# --------------------------------------------------------------- generic hooks
def draw(state, pos, u, i, U, V, rng):  # pragma: no cover - compiled only
    """Generic negative draw; each sampler registers an implementation."""
    raise NotImplementedError("draw() is only callable from compiled code")


def draw_group(state, pos, u, i, U, V, rng, items, start, n):  # pragma: no cover
    """Generic draw of a unit's negatives; see the module docstring."""
    raise NotImplementedError("draw_group() is only callable from compiled code")


def draw_group_scored(state, pos, u, i, U, V, rng, items, start, n, x, norms, k,
                      width):  # pragma: no cover
    """Generic draw of a unit's negatives with their scores; see the module docstring."""
    raise NotImplementedError("draw_group_scored() is only callable from compiled code")


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


@njit(cache=True, inline="always")
def draw_each(state, pos, u, i, U, V, rng, items, start, n):
    """``draw_group`` by ``n`` calls of ``draw``: the default, and what a
    sampler's own ``draw_group`` can fall back to for the settings it does
    not batch (compiled code only)."""
    for r in range(n):
        j = draw(state, pos, u, i, U, V, rng)
        if j < 0:
            return False
        items[start + r] = j
    return True


@inline_overload(draw_group)
def _draw_each(state, pos, u, i, U, V, rng, items, start, n):
    # the default only for classes that registered no draw_group of their own
    if (draw_group, getattr(state, "instance_class", None)) in _REGISTERED:
        return None

    def impl(state, pos, u, i, U, V, rng, items, start, n):
        return draw_each(state, pos, u, i, U, V, rng, items, start, n)
    return impl


@inline_overload(draw_group_scored)
def _draw_unscored(state, pos, u, i, U, V, rng, items, start, n, x, norms, k, width):
    # the default only for classes that registered no draw_group_scored of their own
    if (draw_group_scored, getattr(state, "instance_class", None)) in _REGISTERED:
        return None

    def impl(state, pos, u, i, U, V, rng, items, start, n, x, norms, k, width):
        return 1 if draw_group(state, pos, u, i, U, V, rng, items, start, n) else 0
    return impl


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
