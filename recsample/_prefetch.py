"""A software prefetch hint for compiled kernels.

``prefetch_row(A, r)`` asks the processor to start loading the cache lines of
row ``r`` of a 2-d array (or the line holding element ``r`` of a 1-d array)
without waiting for them. It never faults and changes no value; on data
already in cache it costs a few instructions.
"""
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

_LINE = 64


@intrinsic
def prefetch_row(typingctx, arr, row):
    if not isinstance(arr, types.Array) or arr.ndim not in (1, 2) or \
            not isinstance(row, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        aryty, rowty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        r = context.cast(builder, args[1], rowty, types.intp)
        idx = [r] + [intp(0)] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
            "llvm.prefetch.p0")
        start = builder.ptrtoint(ptr, intp)
        if aryty.ndim == 2:
            itemsize = context.get_abi_sizeof(context.get_data_type(aryty.dtype))
            ncols = builder.extract_value(ary.shape, 1)
            last = builder.sub(builder.mul(ncols, intp(itemsize)), intp(1))
        else:
            last = intp(0)
        # every line from the row's first byte to its last (write intent, keep in cache)
        with cgutils.for_range_slice(builder, intp(0), builder.add(last, intp(1)),
                                     intp(_LINE)) as (offset, _):
            addr = builder.inttoptr(builder.add(start, offset), i8p)
            builder.call(fn, [addr, i32(1), i32(3), i32(1)])
        addr = builder.inttoptr(builder.add(start, last), i8p)
        builder.call(fn, [addr, i32(1), i32(3), i32(1)])
        return context.get_dummy_value()
    return types.void(arr, row), codegen
