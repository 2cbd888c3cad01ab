"""The ``rntk`` command (contract: DESIGN.md, "Command-line contract").

Every bad argument gives one line on stderr naming it and exit status 2; no tracebacks.
"""
from __future__ import annotations

import argparse
import functools
import json
import sys
import time

from . import conventions, inputs
from . import sweep as _sweep
from .kernels import METHODS, nstr
from .kernels import kernel as _kernel
from .progress import Progress

MAX_RECURSION_SECONDS = 3600.0


class UsageError(Exception):
    """A bad command-line argument: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's own errors (unknown option, bad choice): one line, exit 2
        raise UsageError(message)


def _digits_arg(s: str) -> int:
    try:
        return int(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer in [1, {inputs.MAX_DIGITS}], got {s!r}") from None


def _add_model_args(p, *, depth=True):
    p.add_argument("--arch", required=True, help="ffnet or resnet")
    p.add_argument("--rho", required=True, help="<x, x'> in [-1, 1], an exact decimal")
    if depth:
        p.add_argument("--depth", required=True, help="L, an integer >= 1 of any size")
    g = p.add_argument_group("residual scale (resnet only; default gamma = 1)")
    g.add_argument("--gamma", help="alpha = L^-gamma, gamma >= 0 (exact decimal)")
    g.add_argument("--alpha", help="constant alpha > 0 (exact decimal)")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _add_kernel(sub) -> None:
    k = sub.add_parser("kernel", help="normalized NTK or GP kernel of a pair at depth L")
    _add_model_args(k)
    k.add_argument("--digits", type=_digits_arg, default=30, help="significant digits (default 30)")
    k.add_argument("--kernel", default="ntk", help="ntk (default) or gp")
    k.add_argument("--method", default="auto",
                   help="auto (default), recursion (exact, O(L) steps) or asymptotic (skip-ahead)")
    k.add_argument("--convention", default="rntk",
                   help="print the value in another NTK convention (docs/conventions.md): "
                        + ", ".join(conventions.CONVENTIONS))
    k.add_argument("--certified", action="store_true",
                   help="guaranteed enclosure by ball arithmetic (python-flint); the exact "
                        "recursion only; JSON adds \"certified\" and \"interval\": [lo, hi]")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rntk", description="Normalized NTKs of deep ReLU FFNets and ResNets.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in PARSERS:
        add(sub)
    return parser


def _cmd_kernel(args) -> dict:
    method = inputs.choice("method", args.method, METHODS)
    arch = inputs.choice("arch", args.arch, inputs.ARCHS)
    depth = inputs.depth(args.depth)
    inputs.rho_exact(args.rho)
    inputs.scaling(arch, args.gamma, args.alpha)
    convention = conventions.lookup(args.convention, arch).name
    digits = inputs.digits(args.digits)
    if args.certified and convention != "rntk":
        raise ValueError("certified: available with --convention rntk only")
    t0 = time.perf_counter()
    with Progress(2 * depth, f"L={depth}", enabled=not (args.json or args.quiet)) as bar:
        compute = _kernel if convention == "rntk" else functools.partial(conventions.kernel_in, convention)
        extra = {"certified": True} if args.certified else {}
        kv = compute(arch, args.rho, depth, kernel=args.kernel, gamma=args.gamma, alpha=args.alpha,
                     digits=digits, method=method, max_seconds=MAX_RECURSION_SECONDS, progress=bar, **extra)
    seconds = time.perf_counter() - t0
    return {
        "arch": arch, "rho": args.rho, "depth": depth, "kernel": args.kernel,
        "alpha": None if kv.alpha is None else _nstr(kv.alpha, digits),
        "value": kv.decimal(), "error": _nstr(kv.decimal_error(), 3),
        "error_kind": kv.error_kind, "digits": digits, "method": kv.method, "seconds": round(seconds, 4),
        "convention": convention, "certified": kv.interval is not None,
        **({} if kv.interval is None else {"interval": list(kv.interval)}),
    }


def _nstr(x, n):
    return nstr(x, n, min_fixed=-5, max_fixed=n + 1)


def _print_kernel(res: dict) -> None:
    name = "Omegabar_L" if res["kernel"] == "ntk" else "rho_L"
    if res.get("convention", "rntk") != "rntk":
        name = f"{res['kernel'].upper()} [{res['convention']} convention]"
    alpha = "" if res["alpha"] is None else f", alpha = {res['alpha']}"
    print(f"{res['arch']} {name}(rho = {res['rho']}), L = {res['depth']}{alpha}")
    print(f"  value  {res['value']}")
    print(f"  error  {res['error']}  ({res['error_kind']})")
    if res.get("interval"):
        print(f"  interval [{res['interval'][0]}, {res['interval'][1]}]")
    print(f"  method {res['method']}, {res['seconds']} s")


def _add_limit_rate(sub) -> None:
    for name, text in (("limit", "depth limit of the normalized NTK, with its error and regime"),
                       ("rate", "asymptotic expansion of Omegabar_L - limit in L (docs/asymptotics.md)")):
        p = sub.add_parser(name, help=text)
        _add_model_args(p, depth=False)
        p.add_argument("--beta", help="alpha = beta / sqrt(L) (the borderline gamma = 1/2), beta > 0")
        p.add_argument("--digits", type=_digits_arg, default=30 if name == "limit" else 20,
                       help="significant digits (default 30 for limit, 20 for rate)")


def _limit_args(args):
    from . import asymptotics

    inputs.rho_exact(args.rho)
    return asymptotics, dict(gamma=args.gamma, alpha=args.alpha, beta=args.beta, digits=inputs.digits(args.digits))


def _limit_json(lim, digits) -> dict:
    return {"value": _nstr(lim.value, digits), "error": _nstr(lim.error, 3), "regime": lim.kind,
            "regime_id": lim.regime, "form": lim.form, "exact": lim.exact}


def _cmd_limit(args) -> dict:
    asy, kw = _limit_args(args)
    res = _limit_json(asy.limit(args.arch, args.rho, **kw), kw["digits"])
    return {"arch": args.arch, "rho": args.rho, **res}


def _print_limit(res: dict) -> None:
    print(f"{res['arch']} lim_(L->oo) Omegabar_L(rho = {res['rho']}) [{res['regime']}]")
    print(f"  value  {res['value']}" + (f"   (exact: {res['exact']})" if res["exact"] else ""))
    print(f"  error  {res['error']}  ({res['form']})")


def _cmd_rate(args) -> dict:
    asy, kw = _limit_args(args)
    ex = asy.expansion(args.arch, args.rho, **kw)
    d = kw["digits"]
    terms = [{"coefficient": _nstr(t.coefficient, d), "error": _nstr(t.error, 3),
              "power": int(t.power) if t.power.denominator == 1 else float(t.power),
              "power_exact": str(t.power),
              "log_power": t.log_power, "exact": t.exact} for t in ex.terms]
    return {"arch": args.arch, "rho": args.rho, "limit": _limit_json(ex.limit, d), "form": ex.form,
            "remainder": ex.remainder, "terms": terms}


def _print_rate(res: dict) -> None:
    lim = res["limit"]
    print(f"{res['arch']} Omegabar_L(rho = {res['rho']}) = limit + sum c L^-p (log L)^q + O({res['remainder']})")
    print(f"  limit  {lim['value']} +/- {lim['error']}  [{lim['regime']}]")
    for t in res["terms"]:
        ex = (
            f"   exact: {t['exact']}"
            if t["exact"] and len(t["exact"]) < 120
            else ("   (closed form in --json)" if t["exact"] else "")
        )
        print(f"  L^-{t['power']} (log L)^{t['log_power']}:  {t['coefficient']} +/- {t['error']}{ex}")
    print(f"  ({res['form']})")


# Each command: a function adding its subparser, and (run(args) -> dict, show(dict)) by name.
PARSERS = [_add_kernel, _add_limit_rate]
COMMANDS = {"kernel": (_cmd_kernel, _print_kernel), "limit": (_cmd_limit, _print_limit),
            "rate": (_cmd_rate, _print_rate)}

PARSERS.append(_sweep.add_cli)
COMMANDS["explore"] = (_sweep.run, _sweep.show)

from . import plots as _plots  # noqa: E402

PARSERS.append(_plots.add_cli)
COMMANDS["plot"] = (_plots.run, _plots.show)

from proofs_check import report as _verify  # noqa: E402  (the checks of the seeds' claims)

PARSERS.append(_verify.add_cli)
COMMANDS["verify"] = (_verify.run, _verify.show)


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        run, show = COMMANDS[args.command]
        result = run(args)
    except (UsageError, ValueError) as exc:
        print(f"rntk: error: {str(exc).splitlines()[0]}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("rntk: interrupted", file=sys.stderr)
        return 130
    if getattr(args, "json", False):
        print(json.dumps(result))
    else:
        show(result)
    return result.get("exit_status", 0) if isinstance(result, dict) else 0


if __name__ == "__main__":
    sys.exit(main())
