"""The ``rntk`` command (contract: docs/getting-started.md).

Every bad argument gives one line on stderr naming it and exit status 2; no tracebacks.
A reader that closes the pipe early (``rntk verify --json | head -c 100``) ends the command quietly
with exit status 141 = 128 + SIGPIPE, what a shell reports for a command stopped by a closed pipe
(Python docs, "Note on SIGPIPE").
"""
from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time

from . import conventions, inputs
from . import sweep as _sweep
from .kernels import METHODS, correct_digits, nstr, rounded
from .kernels import kernel as _kernel
from .progress import Progress

MAX_RECURSION_SECONDS = 3600.0
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


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
        p.add_argument("--depth", required=True, help="L, an integer in [1, 10^100]: 1000000, 1e6, 10**6 or 10^6")
    g = p.add_argument_group("residual scale (resnet only; default gamma = 1)")
    g.add_argument("--gamma", help="alpha = L^-gamma, gamma >= 0 (exact decimal)")
    g.add_argument("--alpha", help="constant alpha > 0 (exact decimal)")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    if depth:  # limit and rate show no progress bar: --quiet would not apply
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
    k.add_argument("--complement", action="store_true",
                   help="also print 1 - value (from the recursion's u = 1 - rho for the GP kernel: all its digits "
                        "where the value rounds to 1); printed anyway, and in JSON as \"one_minus_value\", "
                        "when |1 - value| < 1e-3")
    k.add_argument("--certified", action="store_true",
                   help="guaranteed enclosure by ball arithmetic (python-flint); the exact "
                        "recursion only; JSON adds \"certified\" and \"interval\": [lo, hi]")
    m = k.add_argument_group("network (docs/activations.md; default relu, weight variance 2, bias variance 0)")
    m.add_argument("--activation", help="NAME[:PARAMS], e.g. erf:1,2,0 or leaky_relu:0.1 (decimal parameters)")
    m.add_argument("--weight-var", help="sigma_w^2 > 0 (exact decimal), or eoc: the edge of chaos for --bias-var")
    m.add_argument("--bias-var", help="sigma_b^2 >= 0 (exact decimal)")


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(prog="rntk", description="Normalized NTKs of deep ReLU FFNets and ResNets.",
                     epilog="Exit status: 0 success, 1 a failed check (verify), 2 a bad argument, "
                            "141 the output pipe was closed early.")
    parser.add_argument("--version", action="version", version=f"rntk {__version__}")
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
    if args.complement and convention != "rntk":
        raise ValueError("complement: available with --convention rntk only")
    extra = {}
    network = {"activation": args.activation, "weight_var": args.weight_var, "bias_var": args.bias_var}
    if any(v is not None for v in network.values()):
        if conventions.CONVENTION_TABLE[convention].model_coeffs is None:
            raise ValueError("activation: --activation/--weight-var/--bias-var need --convention rntk or "
                             "neural_tangents")
        extra = network
    t0 = time.perf_counter()
    with Progress(2 * depth, f"L={depth}", enabled=not (args.json or args.quiet)) as bar:
        compute = _kernel if convention == "rntk" else functools.partial(conventions.kernel_in, convention)
        extra = {**extra, "certified": True} if args.certified else extra
        kv = compute(arch, args.rho, depth, kernel=args.kernel, gamma=args.gamma, alpha=args.alpha,
                     digits=digits, method=method, max_seconds=MAX_RECURSION_SECONDS, progress=bar, **extra)
    seconds = time.perf_counter() - t0
    return {
        "arch": arch, "rho": args.rho, "depth": depth, "kernel": args.kernel, "gamma": args.gamma,
        "alpha": None if kv.alpha is None else _nstr(kv.alpha, digits),
        "value": kv.decimal(), "error": _nstr(kv.decimal_error(), 3),
        "error_kind": kv.error_kind, "digits": digits, "correct_digits": kv.correct_digits,
        "method": kv.method, "seconds": round(seconds, 4),
        "convention": convention, "certified": kv.interval is not None,
        **({} if kv.interval is None else {"interval": list(kv.interval)}),
        **_complement(kv, args.complement, convention),
        **{k: v for k, v in extra.items() if k != "certified"},
    }


COMPLEMENT_BELOW = 1e-3  # |1 - value| under which 1 - value is printed without --complement


def _complement(kv, asked: bool, convention: str) -> dict:
    """``one_minus_value`` / ``one_minus_error`` (1 - value, rounded to its own error) when asked or
    when the value is within COMPLEMENT_BELOW of 1 (this package's convention only)."""
    if convention != "rntk" or not (asked or abs(1 - kv.value) < COMPLEMENT_BELOW):
        return {}
    c = kv.complement
    return {"one_minus_value": c.decimal(), "one_minus_error": _nstr(c.decimal_error(), 3)}



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
    if "one_minus_value" in res:
        print(f"  1 - value  {res['one_minus_value']} +/- {res['one_minus_error']}")
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
        # other networks: limit in every phase (ffnet) and every gamma (resnet); rate in the ordered and chaotic
        # phases (fitted prefactors, docs/phases.md), at the edge of chaos (docs/asymptotics.md sec. 9) and for
        # the resnet (sec. 10.5)
        if name in ("limit", "rate"):
            m = p.add_argument_group("network (default relu, weight variance 2, bias variance 0; ffnet: every phase; "
                                     "resnet: limit and rate for every gamma, docs/asymptotics.md sec. 10)")
            m.add_argument("--activation", help="NAME[:PARAMS], e.g. erf or leaky_relu:0.1")
            m.add_argument("--weight-var", help="sigma_w^2 > 0 (exact decimal), or eoc")
            m.add_argument("--bias-var", help="sigma_b^2 >= 0 (exact decimal)")
            m.add_argument("--kernel", default="ntk", help="ntk (default) or gp")


def _limit_args(args):
    from . import asymptotics

    inputs.rho_exact(args.rho)
    return asymptotics, dict(gamma=args.gamma, alpha=args.alpha, beta=args.beta, digits=inputs.digits(args.digits))


def _rounded(value, error, digits) -> dict:
    """``value`` rounded to the digits ``error`` supports (never more), and that number of digits."""
    return {"value": rounded(value, error, digits, strip_zeros=True), "digits": correct_digits(value, error, digits)}


def _limit_json(lim, digits) -> dict:
    return {**_rounded(lim.value, lim.error, digits), "error": _nstr(lim.error, 3), "regime": lim.kind,
            "regime_id": lim.regime, "form": lim.form, "exact": lim.exact}


def _echo(args) -> dict:
    """``arch``, ``rho`` and the residual scale's options as typed (null when not given)."""
    return {"arch": args.arch, "rho": args.rho, "gamma": args.gamma, "alpha": args.alpha, "beta": args.beta}


def _network(args) -> dict:
    """The network options given (``activation``, ``weight_var``, ``bias_var``; None left out)."""
    return {k: v for k in ("activation", "weight_var", "bias_var") if (v := getattr(args, k)) is not None}


def _cmd_limit(args) -> dict:
    asy, kw = _limit_args(args)
    extra = _network(args)
    if args.kernel != "ntk":
        extra["kernel"] = args.kernel
    res = _limit_json(asy.limit(args.arch, args.rho, **kw, **extra), kw["digits"])
    return {**_echo(args), **res, **extra}


def _print_limit(res: dict) -> None:
    name = "rho_L" if res.get("kernel") == "gp" else "Omegabar_L"
    print(f"{res['arch']} lim_(L->oo) {name}(rho = {res['rho']}) [{res['regime']}]")
    print(f"  value  {res['value']}" + (f"   (exact: {res['exact']})" if res["exact"] else ""))
    print(f"  error  {res['error']}  ({res['form']})")


def _cmd_rate(args) -> dict:
    from . import general

    extra = _network(args)
    seeds = not general.uses_general(args.arch, extra.get("activation"), extra.get("weight_var"),
                                     extra.get("bias_var"), gamma=args.gamma, alpha=args.alpha)
    at_edge = seeds or inputs.is_eoc(args.weight_var)  # the seeds' relu sits at its edge of chaos
    if not at_edge and args.arch != "resnet":  # FFNet ordered and chaotic phases: prefactors fitted
        return _cmd_fitted_rate(args, extra)
    asy, kw = _limit_args(args)
    if args.kernel != "ntk":
        extra["kernel"] = args.kernel
    ex = asy.expansion(args.arch, args.rho, **kw, **extra)
    d = kw["digits"]
    # each coefficient to the digits its error supports (at most D): the large-tau s_1, s_2 have fewer
    terms = [{"coefficient": rounded(t.coefficient, t.error, d, strip_zeros=True),
              "digits": correct_digits(t.coefficient, t.error, d), "error": _nstr(t.error, 3),
              "power": int(t.power) if t.power.denominator == 1 else float(t.power),
              "power_exact": str(t.power),
              "log_power": t.log_power, "exact": t.exact} for t in ex.terms]
    return {**_echo(args), "digits": d, "limit": _limit_json(ex.limit, d), "form": ex.form,
            "remainder": ex.remainder, "terms": terms, **extra}


def _cmd_fitted_rate(args, network: dict) -> dict:
    """``rntk rate`` for another network (or the GP kernel): the FFNet's ordered and chaotic phases, prefactors
    fitted to the exact recursion (:func:`rntk_sym.fitted_rates.fitted_rate`); the JSON of the derived
    expansion, each term with its ``base`` (``coefficient L^-power base^L``) and ``"fitted": true``."""
    from .fitted_rates import fitted_rate

    inputs.choice("arch", args.arch, inputs.ARCHS)  # the ResNet's rates are rntk_sym.resnet_rates (_cmd_rate)
    for name in ("gamma", "alpha", "beta"):
        if getattr(args, name) is not None:
            raise ValueError(f"{name}: the ffnet has no residual scale")
    inputs.rho_exact(args.rho)
    d = inputs.digits(args.digits)
    fr = fitted_rate(args.rho, arch=args.arch, kernel=args.kernel, digits=d, **network)
    terms = [{"coefficient": rounded(t.coefficient, t.error, d, strip_zeros=True),
              "digits": correct_digits(t.coefficient, t.error, d), "error": _nstr(t.error, 3),
              "power": int(t.power), "power_exact": str(t.power), "log_power": 0, "exact": None,
              "base": rounded(t.base, t.base_error, d, strip_zeros=True), "base_error": _nstr(t.base_error, 3),
              "base_name": t.base_name} for t in fr.terms]
    return {**_echo(args), "digits": d, "limit": _limit_json(fr.limit, d), "form": fr.form,
            "remainder": fr.remainder, "terms": terms, "fitted": True, "kernel": args.kernel,
            "depths": list(fr.depths), **network}


def _print_rate(res: dict) -> None:
    if res.get("fitted"):
        return _print_fitted_rate(res)
    lim = res["limit"]
    name = "rho_L" if res.get("kernel") == "gp" else "Omegabar_L"
    print(f"{res['arch']} {name}(rho = {res['rho']}) = limit + sum c L^-p (log L)^q + O({res['remainder']})")
    print(f"  limit  {lim['value']} +/- {lim['error']}  [{lim['regime']}]")
    for t in res["terms"]:
        ex = (
            f"   exact: {t['exact']}"
            if t["exact"] and len(t["exact"]) < 120
            else ("   (closed form in --json)" if t["exact"] else "")
        )
        fewer = f"  ({t['digits']} digits)" if t["digits"] < res["digits"] else ""
        print(f"  L^-{t['power']} (log L)^{t['log_power']}:  {t['coefficient']} +/- {t['error']}{fewer}{ex}")
    print(f"  ({res['form']})")


def _print_fitted_rate(res: dict) -> None:
    name = "rho_L" if res["kernel"] == "gp" else "Omegabar_L"
    lim = res["limit"]
    print(f"{res['arch']} {name}(rho = {res['rho']}) = limit + sum c L^-p b^L + ...  (fitted prefactors)")
    print(f"  limit  {lim['value']} +/- {lim['error']}  [{lim['regime']}]")
    for t in res["terms"]:
        fewer = f"  ({t['digits']} digits)" if t["digits"] < res["digits"] else ""
        print(f"  L^{-t['power']} ({t['base_name']} = {t['base']})^L:  {t['coefficient']} +/- {t['error']}{fewer}")
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

from . import spectra as _spectra  # noqa: E402

PARSERS.append(_spectra.add_cli)
COMMANDS["spectrum"] = (_spectra.run, _spectra.show)

from . import phase as _phase  # noqa: E402

PARSERS.append(_phase.add_cli)
COMMANDS["phase"] = (_phase.run, _phase.show)

from proofs_check import report as _verify  # noqa: E402  (the checks of the seeds' claims)

PARSERS.append(_verify.add_cli)
COMMANDS["verify"] = (_verify.run, _verify.show)


def main(argv=None) -> int:
    """Run the command ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:  # the reader is gone: no more output, no traceback
        _silence_stdio()
        return EXIT_BROKEN_PIPE
    except SystemExit as exc:  # --help, --version
        return exc.code if isinstance(exc.code, int) else 0


def _silence_stdio() -> None:
    """Point stdout and stderr at /dev/null, so that the interpreter's final flush of the buffered
    output cannot raise BrokenPipeError again (Python docs, "Note on SIGPIPE")."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        try:
            os.dup2(devnull, stream.fileno())
        except (AttributeError, OSError, ValueError):  # not a real file (e.g. captured by a test)
            pass
    os.close(devnull)


def _main(argv) -> int:
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
    sys.stdout.flush()  # a closed pipe shows here, inside main's BrokenPipeError handler
    return result.get("exit_status", 0) if isinstance(result, dict) else 0


if __name__ == "__main__":
    sys.exit(main())
