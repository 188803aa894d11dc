"""``inline_overload``: numba's ``overload(func, inline="always")``, typed once.

The training loop reaches each sampler's and loss's code through generic
functions overloaded per state type and inlined into numba's IR (their array
arguments then cost no reference counts). numba types such an overload twice
and compiles it once for nothing: before inlining it asks the overload's
dispatcher for a call template, which compiles the implementation down to
machine code (``Dispatcher.get_call_template``), and then types its IR again
for the inliner. The machine code is never used, and with the trainer's flags
differing from the overload's it was compiled again at every level of nesting
(seen with numba 0.68: ``_train_pair_blind``'s implementation compiled in
8.8 s of the 24.8 s that the BPR + uniform trainer took).

``inline_overload`` registers the same template with one change: the
implementation's dispatcher is told it cannot compile, so the call template
comes back empty (it is not used on the inlining path) and only the typing
for the inliner runs. The values computed are the same; the factor hashes of
the identity sets in the tests check it.
"""
from numba.core import types
from numba.core.typing.templates import infer, infer_global, make_overload_template
from numba.core.extending import _overload_default_jit_options


def inline_overload(func):
    """Decorator: ``overload(func, inline="always")`` without the unused
    compilation of each implementation (see the module docstring)."""
    def decorate(overload_func):
        base = make_overload_template(func, overload_func, dict(_overload_default_jit_options),
                                      True, "always")

        class Template(base):
            _typed = {}

            def generic(self, args, kws):
                # type inference asks again for every call site each time it
                # revisits one; the answer for the same argument types does not
                # change, and each asking re-ran the implementation's untyped
                # passes and type inference (and copied its IR)
                key = (self.context, tuple(args), tuple(kws.items()))
                try:
                    return self._typed[key]
                except KeyError:
                    pass
                except TypeError:          # an unhashable type: just type it
                    return super().generic(args, kws)
                sig = self._typed[key] = super().generic(args, kws)
                return sig

            def _get_jit_decorator(self):
                jitter = super()._get_jit_decorator()

                def typed_only(**options):
                    decorate = jitter(**options)

                    def make(pyfunc):
                        disp = decorate(pyfunc)
                        # typed by the inliner only; never compiled on its own
                        disp._can_compile = False
                        return disp
                    return make
                return typed_only
        Template.__name__ = base.__name__
        infer(Template)
        infer_global(func, types.Function(Template))
        return overload_func
    return decorate
