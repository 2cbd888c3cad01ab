"""Run every check (``rntk verify [--quick] [--json]``): progress on stderr, a table or the JSON
contract ``{"checks": [{"id", "source", "claim", "status", "evidence"}], "passed", "failed"}``;
exit status 0 only when every check passes."""
from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
import traceback

from rntk_sym.progress import Progress

from .core import Check, jsonable

MODULES = ("ffnet_thm6", "resnet_thm7", "resnet_thm7_endpoint", "resnet_divisor", "seed000_gamma_gt_half",
           "seed000_degenerate", "seed000_gamma_lt_half", "seed000_gamma_half", "nonlearnability",
           "empirical_ntk", "gram_gd", "general_mc", "spectrum_parity", "spectrum_decay",
           "learning_curve", "schoenholz_depth",
           "xiao_ordered", "hayou_eoc", "eoc_abrelu", "eoc_smooth", "eoc_zero",
           "resnet_gamma_general")


def check_ids() -> dict[str, str]:
    """``{id: module}``: the id each check reports (``002-thm6-ffnet``) and the module that runs it."""
    return {importlib.import_module(f"proofs_check.{m}").ID: m for m in MODULES}


def resolve(only) -> tuple[str, ...]:
    """Module names for ``--only``: each item a module name (``ffnet_thm6``) or a check id
    (``002-thm6-ffnet``, as the report prints it); ValueError naming ``only`` and listing both otherwise."""
    ids = check_ids()
    out = []
    for name in only:
        if name not in MODULES and name not in ids:
            valid = ", ".join(f"{i} ({m})" for i, m in ids.items())
            raise ValueError(f"only: unknown check {name!r}; valid ids (modules): {valid}")
        out.append(ids.get(name, name))
    return tuple(dict.fromkeys(out))


def run_checks(quick: bool = True, *, only=None, show_progress: bool = True, stream=None) -> list[Check]:
    """Run the checks (``only``: module names or check ids, :func:`resolve`) and return them; a check
    that raises is reported as failed with the exception in its evidence."""
    names = MODULES if only is None else resolve(only)
    checks = []
    with Progress(len(names), "verify", enabled=show_progress, stream=stream) as bar:
        for i, name in enumerate(names):
            mod = importlib.import_module(f"proofs_check.{name}")
            bar.label = f"verify {name}"
            bar(i)
            t0 = time.perf_counter()
            try:
                c = mod.check(quick)
            except Exception as exc:  # a crash is a failed check, reported with its cause
                c = Check(getattr(mod, "ID", name), getattr(mod, "CLAIM", ""), getattr(mod, "SOURCE", ""),
                          "raised", {"error": f"{type(exc).__name__}: {exc}",
                                     "traceback": traceback.format_exc(limit=3)}, "fail")
            c.seconds = time.perf_counter() - t0
            checks.append(c)
            bar(i + 1)
    return checks


def as_json(checks: list[Check]) -> dict:
    passed = sum(c.passed for c in checks)
    return {"checks": [c.as_json() for c in checks], "passed": passed, "failed": len(checks) - passed}


def _headline(c: dict) -> str:
    """One line of the evidence for the table."""
    ev = c["evidence"]
    if c["status"] == "fail" and ev.get("failed"):
        return "; ".join(ev["failed"])[:140]
    if "error" in ev:
        return ev["error"][:140]
    return HEADLINES.get(c["id"], lambda e: "")(ev)[:140]


def _g(x, f="%.4g"):
    return f % x if isinstance(x, (int, float)) else str(x)


HEADLINES = {
    "002-thm6-ffnet": lambda e: (
        "L*err = a + b log L, b = "
        + ", ".join(_g(d["slope of L*err vs log L (deepest 4)"], "%.4f") for d in e["per_rho"].values())
        + " (3/8); diag T_L = "
        + e["diagonal_symbolic"]["T_l (rsolve)"].replace("l", "L")
    ),
    "002-thm7-resnet": lambda e: (
        "L*err/a_1(rho) = " + ", ".join(_g(d["L*err(L_max) / a_1"], "%.4f") for d in e["per_rho"].values())
    ),
    "002-thm7-resnet-rho=-1": lambda e: (
        f"err ~ L^-{_g(e['rho=-1']['rate']['p_free'], '%.3f')}, sqrt(L) err/C = "
        f"{_g(e['rho=-1']['sqrt(L_max)*err / C'], '%.4f')} (C = "
        f"{e['rho=-1']['derived constant']['C']}); sup L|err| ~ L^"
        f"{_g(-e['sup growth']['p_free'], '%.3f')}"
    ),
    "002-resnet-divisor": lambda e: (
        "Omega_L(x,x) = "
        + e["Omega_L(x,x) (sympy.summation)"]
        + ", difference "
        + e["simplify(Omega_L(x,x) - divisor)"]
    ),
    "000-gamma>1/2": lambda e: (
        "fitted p vs leading power: "
        + ", ".join(
            f"{_g(d['p fitted'], '%.3f')}/{d['leading term (expansion)'].split('^-')[1]}"
            for d in e["per_case"].values()
        )
    ),
    "000-degenerate": lambda e: (
        "limit "
        + ", ".join(_g(v) for v in e["the constant (asymptotics.limit, rho = -1, 0, 0.9)"].values())
        + "; gamma=1/4 tau*err -> "
        + ", ".join(
            f"{_g(d['tau*err extrapolated in 1/tau'])} (s0 {_g(d['s0 (continuum)'])})"
            for k, d in e["per_case"].items()
            if k.startswith("gamma")
        )
    ),
    "000-gamma-in-(0,1/2)": lambda e: (
        "err(L_max), tau: "
        + ", ".join(
            f"g={g}: {_g(d['err(L_max)'], '%.2g')}, {_g(d['tau(L_max)'], '%.3g')}" for g, d in e["per_gamma"].items()
        )
    ),
    "000-gamma=1/2": lambda e: (
        "F0 = "
        + ", ".join(_g(d["F0 (continuum limit)"]) for d in e["per_rho"].values())
        + "; L*err/a_1 = "
        + ", ".join(_g(d["L*err(L_max)/a_1"], "%.4f") for d in e["per_rho"].values())
    ),
    "002-nonlearnability": lambda e: (
        f"f(x_j)/y_j = {e['f(x_j)/y_j (J y = 0)']}, f(x*) = {e['f(x*) for general 1^T y = s']} (s = sum y = 0)"
    ),
    "general-activation-monte-carlo": lambda e: (
        "max |MC - exact| / SE = "
        + _g(max(abs(r["monte_carlo"] - r["exact"]) / r["standard_error"] for r in e["cases"]), "%.2f")
        + f" over {len(e['cases'])} kernels"
    ),
    "bm19-odd-eigenvalues": lambda e: (
        "L=1 max odd |mu_k|/error = " + _g(max(d["max_odd |mu_k|/error"] for k, d in e["cases"].items()
                                              if k.endswith("L=1")), "%.2f")
        + "; L>=2 min odd mu_k/error = " + _g(min(d["min_odd mu_k/error"] for k, d in e["cases"].items()
                                                 if not k.endswith("L=1")), "%.3g")
    ),
    "bb21-deep-equals-shallow": lambda e: (
        "fitted powers " + ", ".join(f"{k.split()[0]}: " + "/".join(
            _g(v["fitted power"], "%.3f") for v in d.values() if isinstance(v, dict)) for k, d in
            list(e["cases"].items())[:1] + list(e["cases"].items())[-1:])
        + f" ... ({len(e['cases'])} cases)"
    ),
    "bcp20-learning-curve": lambda e: (
        "predicted/measured at n=200: " + ", ".join(
            f"{k}: {_g(d['n=200']['predicted'], '%.3g')}/{_g(d['n=200']['measured'], '%.3g')}"
            for k, d in e["cases"].items())
    ),
    "schoenholz-depth-scales": lambda e: (
        "xi measured/predicted: " + ", ".join(
            f"{r['activation']} ({r['sigma_w^2']}, {r['sigma_b^2']}) "
            f"{_g(r['xi measured'] / r['xi_c predicted'], '%.6f')}"
            for r in e["cases"])
    ),
    "xiao-ordered-ntk-limit": lambda e: (
        "Theta_200(x,x) / (q*/(1 - chi_1)) = "
        + ", ".join(_g(r["Theta_200(x,x)"] / r["q*/(1 - chi_1)"], "%.10f") for r in e["cases"])
    ),
    "015-gamma-diagram-any-activation": lambda e: (
        "erf: k/predicted = "
        + _g(e["erf: k in log NTK = -k sqrt(tau) + (2/pi - 4/pi^2) log tau + log log tau + c + d tau^-1/2, "
               "predicted (4/pi) sigma_w"][0] / e["erf: k in log NTK = -k sqrt(tau) + (2/pi - 4/pi^2) log tau + "
                                                  "log log tau + c + d tau^-1/2, predicted (4/pi) sigma_w"][1], "%.4f")
        + ", GP exponent " + _g(e["erf: e in GP ~ C tau^-e (1 + d tau^-1/2), predicted 1 - 2/pi"][0], "%.4f")
        + " (1 - 2/pi = 0.3634); gelu A = "
        + _g(e["gelu: fit of that^(-1/2) = A + tau0/tau: A (predicted 1), tau0"][0], "%.4f")
    ),
    "hayou-relu-eoc-rate": lambda e: (
        "L^2 (1 - rho_L)/(9 pi^2/2) at the deepest L: "
        + ", ".join(_g(r["L^2 (1 - rho_L) / (9 pi^2/2)"][-1], "%.5f") for r in e["cases"])
    ),
    "eoc-abrelu-universal": lambda e: (
        "L (NTK_L - 1/4 - B1/L)/log L at the deepest L: "
        + ", ".join(f"{r['activation']} {_g(r['L (NTK_L - 1/4 - B1/L)/log L'], '%.5f')}" for r in e["cases"]
                    if r["L"] == max(q["L"] for q in e["cases"] if q["activation"] == r["activation"]))
        + " (3/8 = 0.375)"
    ),
    "eoc-smooth-limit": lambda e: (
        "log-slope / (C/3): " + ", ".join(f"{r['activation']} {_g(r['log-slope'] / r['C/3'], '%.4f')}"
                                           for r in e["cases"] if "log-slope" in r)
    ),
    "eoc-zero-q-limit": lambda e: (
        "NTK log-slope / (-2A): " + ", ".join(f"{r['activation']} {r['rho']} {_g(r['log-slope'] / r['-2A'], '%.4f')}"
                                               for r in e["cases"] if "log-slope" in r)
    ),
    "002-thm4-5-empirical-ntk": lambda e: (
        "error ~ m^p, L^q: "
        + ", ".join(
            f"{k}: p={_g(d['exponent in m'], '%.2f')}, q={_g(d['exponent in L'], '%.2f')}"
            for k, d in e["per_arch"].items()
        )
    ),
    "003-gram-pd-gd": lambda e: (
        "min lambda = "
        + _g(
            min(
                min(r.values())
                for r in e["least eigenvalue lambda(n, L) (unnormalized Omega_L Gram, random points in R^5)"].values()
            ),
            "%.3g",
        )
        + f"; GD max loss/bound = {_g(e['GD']['max_t loss / bound'], '%.3g')}, rate/(lambda/n) = "
        + _g(e["GD"]["rate / (lambda/n)"], "%.3g")
    ),
}


def show(result: dict) -> None:
    """The readable table."""
    rows = [(c["status"].upper(), c["id"], f"{c.get('seconds', 0):.1f}s", _headline(c)) for c in result["checks"]]
    w = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        print(f"{r[0]:<{w[0]}}  {r[1]:<{w[1]}}  {r[2]:>{w[2]}}  {r[3]}")
    print(f"\n{result['passed']} passed, {result['failed']} failed"
          + ("" if not result.get("mode") else f" ({result['mode']} run, {result.get('seconds', 0):.0f} s)"))
    for c in result["checks"]:
        print(f"\n[{c['status']}] {c['id']}: {c['claim']}\n  source: {c['source']}\n  method: {c.get('method', '')}")


def add_cli(sub) -> None:
    p = sub.add_parser("verify", help="check every claim of the seed papers (proofs_check)")
    p.add_argument("--quick", action="store_true", help="smaller depths and widths (< 1 minute)")
    p.add_argument("--json", action="store_true", help="print the JSON report, no table, no progress")
    p.add_argument("--only", nargs="+", metavar="CHECK",
                   help="run only these checks: ids as the report prints them (002-thm6-ffnet) or module names "
                        "(ffnet_thm6)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args) -> dict:
    t0 = time.perf_counter()
    checks = run_checks(args.quick, only=args.only, show_progress=not (args.quiet or args.json))
    out = as_json(checks)
    out["mode"] = "quick" if args.quick else "full"
    out["seconds"] = round(time.perf_counter() - t0, 1)
    out["exit_status"] = 0 if out["failed"] == 0 else 1
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m proofs_check.report")
    add_cli(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["verify", *(sys.argv[1:] if argv is None else argv)])
    res = run(args)
    print(json.dumps(jsonable(res))) if args.json else show(res)
    return res["exit_status"]


if __name__ == "__main__":
    sys.exit(main())
