"""Five low-level helpers for the compiled kernels, written as numba intrinsics.

``prefetch_row(A, r)`` asks the processor to start loading the cache lines of
row ``r`` of a 2-d array (or the line holding element ``r`` of a 1-d array)
without waiting for them. It never faults and changes no value; on data
already in cache it costs a few instructions.

``prefetch_read(A, r)`` is ``prefetch_row`` for a row that will only be read.
``prefetch_at(A, k)`` does the same for the line holding element ``k`` of a
C-contiguous array of any shape counted in its flat order, for reading.

``frame_array(dtype, size)`` makes an intrinsic that returns a small array
living in the calling function's stack frame.

``borrow(A)`` is ``A`` without a reference count of its own.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

_LINE = 64


def _prefetcher(builder, rw):
    """A function that emits a prefetch of one address (an integer):
    ``rw`` 1 for write intent, 0 for reading; kept in every cache level."""
    i8p = ir.IntType(8).as_pointer()
    i32 = ir.IntType(32)
    fn = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
        "llvm.prefetch.p0")

    def emit(addr):
        builder.call(fn, [builder.inttoptr(addr, i8p), i32(rw), i32(3), i32(1)])
    return emit


def _array_and_index(context, builder, signature, args):
    """For the codegen of an intrinsic taking (array, integer): the array's
    type, its structure, the intp type and the integer as an intp."""
    aryty, idxty = signature.args
    ary = context.make_array(aryty)(context, builder, args[0])
    intp = context.get_value_type(types.intp)
    return aryty, ary, intp, context.cast(builder, args[1], idxty, types.intp)


def _row_prefetcher(write):
    """An intrinsic that prefetches the lines of a row, with write intent
    (``write`` true: the row is about to be updated) or for reading."""
    rw = 1 if write else 0

    @intrinsic
    def prefetch(typingctx, arr, row):
        return _prefetch_row_typed(arr, row, rw)
    return prefetch


def _prefetch_row_typed(arr, row, rw):
    if not isinstance(arr, types.Array) or arr.ndim not in (1, 2) or \
            not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, ary, intp, r = _array_and_index(context, builder, signature, args)
        idx = [r] + [intp(0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        emit = _prefetcher(builder, rw)
        start = builder.ptrtoint(ptr, intp)
        if aryty.ndim == 2:
            itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
            ncols = builder.extract_value(ary.shape, 1)
            last = builder.sub(builder.mul(ncols, intp(itemsize)), intp(1))
        else:
            last = intp(0)
        # every line from the row's first byte to its last
        with cgutils.for_range_slice(builder, intp(0), builder.add(last, intp(1)),
                                     intp(_LINE)) as (offset, _):
            emit(builder.add(start, offset))
        emit(builder.add(start, last))
        return context.get_dummy_value()
    return types.void(arr, row), codegen


prefetch_row = _row_prefetcher(write=True)
#: prefetch_row for a row that will only be read: a write-intent request takes
#: the lines away from the other cores' caches, which then miss on them
prefetch_read = _row_prefetcher(write=False)


@intrinsic
def prefetch_at(typingctx, arr, k):
    if not isinstance(arr, types.Array) or arr.layout != "C" or \
            not isinstance(k, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, ary, intp, k = _array_and_index(context, builder, signature, args)
        itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
        offset = builder.mul(k, intp(itemsize))
        start = builder.ptrtoint(ary.data, intp)
        _prefetcher(builder, 0)(builder.add(start, offset))   # read intent
        return context.get_dummy_value()
    return types.void(arr, k), codegen


def frame_array(dtype, size):
    """An intrinsic returning a ``size``-element 1-d array of ``dtype`` whose
    storage is a slot in the calling function's stack frame: no allocation,
    no reference count, nothing shared between threads. Once the code using it
    is inlined, LLVM can keep small ones in registers (a heap array it cannot
    prove apart from the factor arrays, so it reloads it after every store to
    them). The array must not outlive the function that creates it."""
    arrty = types.Array(dtype, 1, "C")

    @intrinsic
    def make(typingctx):
        def codegen(context, builder, signature, args):
            ary = context.make_array(arrty)(context, builder)
            slot = cgutils.alloca_once(builder, context.get_value_type(dtype), size=size)
            intp = context.get_value_type(types.intp)
            itemsize = context.get_abi_sizeof(context.get_value_type(dtype))
            populate_array(ary, data=slot, shape=[intp(size)], strides=[intp(itemsize)],
                           itemsize=intp(itemsize), meminfo=None)
            return ary._getvalue()
        return arrty(), codegen
    return make


@intrinsic
def borrow(typingctx, arr):
    """The same array (data, shape, strides) with no owner: numba takes and
    releases no reference on it, where every ``state.field`` or ``pos.bits``
    read inside a compiled function takes one and releases it later. Those
    are atomic updates of a counter that every thread shares; between two
    threads the counter's cache line moves from core to core at every draw,
    and each update waits for the loads before it. The borrowed array is
    valid only while something else holds the original, as the sampler's
    state and the positives do for the whole of a training call: use it for
    arrays read out of a tuple the caller passed in, never for one this
    function allocates."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        src = context.make_array(aryty)(context, builder, args[0])
        out = context.make_array(aryty)(context, builder)
        populate_array(out, data=src.data, shape=src.shape, strides=src.strides,
                       itemsize=src.itemsize, meminfo=None)
        return out._getvalue()
    return arr(arr), codegen


@intrinsic
def borrow_all(typingctx, tup):
    """``tup`` (a tuple or namedtuple, such as a sampler's state or the
    positives) with every array member :func:`borrow`-ed and the other members
    as they are: the same type, no reference counts. For a kernel's own
    arguments, which the caller holds for the whole call."""
    if not isinstance(tup, types.BaseTuple):
        return None

    def codegen(context, builder, signature, args):
        tupty = signature.args[0]
        out = args[0]
        for k, ty in enumerate(tupty.types):
            if isinstance(ty, types.Array):
                src = context.make_array(ty)(context, builder,
                                             builder.extract_value(args[0], k))
                arr = context.make_array(ty)(context, builder)
                populate_array(arr, data=src.data, shape=src.shape, strides=src.strides,
                               itemsize=src.itemsize, meminfo=None)
                out = builder.insert_value(out, arr._getvalue(), k)
        return out
    return tup(tup), codegen
