"""SymPy expressions evaluated in arb balls (python-flint): the certified evaluators of the closed forms.

:func:`ball_function` compiles an expression once into nested closures over ``flint.arb`` operations; every
constant is exact (integers, rationals, ``pi`` as a ball at the working precision), so the result encloses the
exact value of the expression at the given balls (arb's guarantee for each operation). Only the operations
the families use are admitted; anything else is a ``ValueError`` naming ``certified``.
"""
from __future__ import annotations

import sympy as sp

_FUNCTIONS = {sp.asin: "asin", sp.acos: "acos", sp.atan: "atan", sp.exp: "exp", sp.log: "log", sp.sin: "sin",
              sp.cos: "cos", sp.erf: "erf"}


def ball_function(expr: sp.Expr, args: tuple[sp.Symbol, ...]):
    """``f(*balls)``: ``expr`` with ``args`` bound to arb balls, at flint's current precision."""
    import flint

    arb = flint.arb
    index = {a: i for i, a in enumerate(args)}

    def build(e):
        if e in index:
            i = index[e]
            return lambda v: v[i]
        if e is sp.pi:
            return lambda v: arb.pi()
        if e.is_Integer:
            n = int(e)
            return lambda v: arb(n)
        if e.is_Rational:
            p, q = int(e.p), int(e.q)
            return lambda v: arb(p) / q
        parts = [build(a) for a in e.args]
        if e.is_Add:
            return lambda v: sum((f(v) for f in parts[1:]), parts[0](v))
        if e.is_Mul:
            def mul(v):
                out = parts[0](v)
                for f in parts[1:]:
                    out = out * f(v)
                return out
            return mul
        if e.is_Pow:
            base, ex = parts[0], e.args[1]
            if ex == sp.Rational(1, 2):
                return lambda v: base(v).sqrt()
            if ex == sp.Rational(-1, 2):
                return lambda v: 1 / base(v).sqrt()
            if ex.is_Integer:  # by products: arb's ** goes through the logarithm (NaN for balls containing 0)
                n = int(ex)
                return lambda v: _integer_power(base(v), n)
            power = parts[1]
            return lambda v: (power(v) * base(v).log()).exp()
        if e.func in _FUNCTIONS:
            name = _FUNCTIONS[e.func]
            return lambda v: getattr(parts[0](v), name)()
        raise ValueError(f"certified: no ball evaluation of {e.func.__name__} (in {expr})")

    f = build(expr)
    return lambda *values: f(values)


def _integer_power(x, n: int):
    """``x^n`` by repeated squaring, exact for balls of any sign (``1 / x^-n`` for n < 0)."""
    if n < 0:
        return 1 / _integer_power(x, -n)
    out, sq = None, x
    while n:
        if n & 1:
            out = sq if out is None else out * sq
        n >>= 1
        if n:
            sq = sq * sq
    return out if out is not None else type(x)(1)
