"""Parameter sweeps of the normalized NTK over (gamma or constant alpha, rho, L), and ``rntk explore``.

Symbols (docs/model.md sections 2-4): ``gammas`` = gamma (alpha = L^-gamma), ``alphas`` = constant alpha,
``rhos`` = rho = <x, x'>, ``depths`` = L; the value at each point is ``Omegabar_L(rho)`` from
:func:`rntk_sym.ntk`, in float64 (``digits=None``, one vectorized run over all rhos per (scale, L))
or with ``digits`` significant digits (one run per point).

- Engines: ``"local"`` (a ``ProcessPoolExecutor`` of at most 2 processes; ``workers=1`` runs in this
  process) or ``"dask"`` (``dask.distributed``; the optional extra ``rntk_sym[dask]``): the same tasks,
  the same numbers, since every task is a deterministic function of its parameters.
- Cache: one JSON line per point, keyed by its parameters, appended as tasks finish; a restarted
  sweep skips the points already there (a torn last line is ignored). Values are stored as decimal
  strings and everything downstream reads those strings, so a resumed sweep equals a fresh one.
- Classification of each (scale, rho) series over L: ``"one-hidden-layer"`` when it approaches
  ``Omegabar_1(rho) = (shat(rho) + rho shatp(rho)) / 2`` (Theorem 7 of seed 002), ``"degenerate"``
  when it approaches the constant 1/4 (seed 002, Theorem 6; seed 000), ``"borderline"`` when it
  settles on neither, ``"other"`` when it does not settle (or the depths are too few, or the two
  limits coincide at this rho), ``"diagonal"`` at rho = 1; and a rate from
  :func:`rntk_sym.rates.fit_rate` of ``|value(L) - limit|``. The labels are read from finite depths:
  a slow regime can show as "other" or "borderline" until L is large enough; beside them each series
  carries what is derived (``derived_regime``, ``derived_limit``, ``derived_rate``;
  :mod:`rntk_sym.asymptotics`), so a sweep shows where the data have not yet reached the theory.
- Another network (``activation``, ``weight_var`` = sigma_w^2, ``bias_var`` = sigma_b^2; docs/activations.md):
  the values come from :func:`rntk_sym.general.kernel` (for the FFNet its skip-ahead where it applies, beyond
  :data:`rntk_sym.skip_general.AUTO_FROM` layers), the data are classified against the
  candidate limits of that model (the ResNet's one-hidden-layer kernel, the general recursion at depth 1 of
  the branch; the depth limit of :func:`rntk_sym.asymptotics.limit` where it answers) and the derived columns
  say "not derived" where :func:`rntk_sym.asymptotics.limit` does not answer. Every row and the grid carry the
  model; a cache made with another model is refused.
"""
from __future__ import annotations

import csv
import decimal
import json
import os
import time
import warnings
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import mpmath
import numpy as np

from . import inputs
from .kernels import estimate_seconds as estimate_seconds_of
from .kernels import ntk
from .rates import fit_exponential, fit_rate

NOT_DERIVED = "not derived"

MAX_WORKERS = 2
MAX_SECONDS = 3600.0
CONNECT_SECONDS = 5  # a Dask scheduler that does not answer within this is reported (dask's default: 30 s)
DASK_HINT = "engine='dask' needs the optional extra: pip install 'rntk_sym[dask]'"


class MissingExtra(ImportError, ValueError):
    """An optional dependency is absent (a ValueError too, so the command line exits with status 2)."""


def canonical(name: str, x) -> str:
    """An exact number as a canonical string: a plain decimal when it has one ("0.25"), else "p/q"."""
    f = inputs.exact_number(name, x)
    d, twos, fives = f.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return f"{f.numerator}/{f.denominator}"
    k = max(twos, fives)
    m = abs(f.numerator) * 10**k // f.denominator  # exact: the denominator divides 10^k
    digits = str(m).rjust(k + 1, "0")
    s = digits if k == 0 else (digits[:-k] + "." + digits[-k:]).rstrip("0").rstrip(".")
    return "-" + s if f < 0 else s


def _exact(s: str):
    """Canonical string back to what :func:`rntk_sym.ntk` accepts exactly."""
    return Fraction(s) if "/" in s else s


@dataclass(frozen=True)
class Grid:
    """The sweep's points: ``scales`` = [("gamma" or "alpha" or "none", canonical value)], ``rhos``
    (canonical strings), ``depths`` (increasing ints), ``digits`` (None: float64), ``model``: the network as
    ``(("activation", spec), ("weight_var", w), ("bias_var", b))`` canonical strings, all None for the seeds'
    relu network (:func:`model_of`)."""

    arch: str
    scales: tuple
    rhos: tuple
    depths: tuple
    digits: int | None
    model: tuple = (("activation", None), ("weight_var", None), ("bias_var", None))

    @property
    def general(self) -> bool:
        """Whether the values come from :func:`rntk_sym.general.kernel` (another network than the seeds')."""
        return any(v is not None for _, v in self.model)

    def points(self):
        return [self.point(s, r, L) for s in self.scales for r in self.rhos for L in self.depths]

    def point(self, scale, rho, depth) -> dict:
        return {"arch": self.arch, "scale": scale[0], "scale_value": scale[1], "rho": rho,
                "depth": depth, "digits": self.digits, **dict(self.model)}


def model_of(arch: str, activation=None, weight_var=None, bias_var=None) -> tuple:
    """The network as canonical strings (``Grid.model``): the activation's spec, sigma_w^2 (``"eoc"`` kept as
    written) and sigma_b^2; all None for relu with sigma_w^2 = 2, sigma_b^2 = 0 (validated by
    :func:`rntk_sym.general.resolve`, one-line ValueError naming the argument)."""
    from . import general

    names = ("activation", "weight_var", "bias_var")
    if activation is None and weight_var is None and bias_var is None:
        return tuple((n, None) for n in names)
    eoc = inputs.is_eoc(weight_var)
    m = general.resolve(arch, activation, weight_var, bias_var, gamma="1" if arch == "resnet" else None)
    if general.is_seed_model(m):
        return tuple((n, None) for n in names)
    return (("activation", m.act.spec), ("weight_var", "eoc" if eoc else canonical("weight_var", m.weight_var)),
            ("bias_var", canonical("bias_var", m.bias_var)))


def grid(arch="resnet", *, gammas=(), alphas=(), rhos, depths, digits=None, activation=None, weight_var=None,
         bias_var=None) -> Grid:
    """Validate and canonicalize a grid (see :func:`sweep` for the arguments)."""
    arch = inputs.choice("arch", arch, inputs.ARCHS)
    model = model_of(arch, activation, weight_var, bias_var)
    gammas, alphas = list(gammas or ()), list(alphas or ())
    if arch == "ffnet":
        if gammas or alphas:
            raise ValueError("gamma/alpha: the ffnet has no residual scale; give them only with arch='resnet'")
        scales = [("none", "")]
    else:
        for g in gammas:
            inputs.scaling(arch, g, None)
        for a in alphas:
            inputs.scaling(arch, None, a)
        scales = [("gamma", canonical("gamma", g)) for g in gammas] + [("alpha", canonical("alpha", a)) for a in alphas]
        scales = scales or [("gamma", "1")]
    rho_list = [canonical("rho", r) for r in _seq("rho", rhos)]
    for r in rho_list:
        inputs.rho_exact(_exact(r))
    dep = sorted({inputs.depth(L) for L in _seq("depths", depths)})
    return Grid(arch, tuple(dict.fromkeys(scales)), tuple(dict.fromkeys(rho_list)), tuple(dep), inputs.digits(digits),
                model)


def _seq(name, xs):
    if isinstance(xs, (str, bytes)) or not hasattr(xs, "__iter__"):
        xs = [xs]
    xs = list(xs)
    if not xs:
        raise ValueError(f"{name}: must be a non-empty list")
    return xs


def key(point: dict) -> str:
    """The cache key of a point: its parameters, canonical and ordered (the model: None for the seeds')."""
    return json.dumps([point[k] for k in ("arch", "scale", "scale_value", "rho", "depth", "digits")]
                      + [point.get(k) for k in MODEL_KEYS])


MODEL_KEYS = ("activation", "weight_var", "bias_var")


def _tasks(g: Grid, todo: list[dict]) -> list[dict]:
    """Group the points to compute into tasks: in float64 all rhos of one (scale, L) in one vectorized
    run; with digits one point per task."""
    if g.digits is not None:
        return [{"points": [p]} for p in todo]
    groups: dict = {}
    for p in todo:
        groups.setdefault((p["scale"], p["scale_value"], p["depth"]), []).append(p)
    return [{"points": ps} for ps in groups.values()]


def _scale_kwargs(p):
    return {} if p["scale"] == "none" else {p["scale"]: _exact(p["scale_value"])}


def run_task(task: dict) -> list[dict]:
    """Compute the points of one task: ``[point + {"value", "error"}]`` with decimal strings."""
    pts = task["points"]
    p0 = pts[0]
    if any(p0.get(k) is not None for k in MODEL_KEYS):
        return _general_task(pts)
    if p0["digits"] is None:
        rho = np.array([float(Fraction(_exact(p["rho"]))) for p in pts])
        vals = np.atleast_1d(ntk(p0["arch"], rho, p0["depth"], **_scale_kwargs(p0)))
        return [dict(p, value=repr(float(v)), error=None) for p, v in zip(pts, vals)]
    kv = ntk(p0["arch"], _exact(p0["rho"]), p0["depth"], digits=p0["digits"], **_scale_kwargs(p0))
    return [dict(p0, value=kv.decimal(), error=mpmath.nstr(kv.decimal_error(), 3))]


def _general_task(pts: list[dict]) -> list[dict]:
    """:func:`run_task` for another network: :func:`rntk_sym.general.kernel` (float64 vectorized, or digits)."""
    from . import general

    p0 = pts[0]
    kw = dict(kernel="ntk", **_scale_kwargs(p0), **{k: p0[k] for k in MODEL_KEYS if p0[k] is not None})
    if p0["digits"] is None:
        rho = np.array([float(Fraction(_exact(p["rho"]))) for p in pts])
        vals = np.atleast_1d(general.kernel(p0["arch"], rho, p0["depth"], **kw))
        return [dict(p, value=repr(float(v)), error=None) for p, v in zip(pts, vals)]
    kv = general.kernel(p0["arch"], _exact(p0["rho"]), p0["depth"], digits=p0["digits"], **kw)
    return [dict(p0, value=kv.decimal(), error=mpmath.nstr(kv.decimal_error(), 3))]


def _model_text(model) -> str:
    m = dict(model)
    return "relu, sigma_w^2 = 2, sigma_b^2 = 0" if all(v is None for v in m.values()) else \
        f"{m['activation']}, sigma_w^2 = {m['weight_var']}, sigma_b^2 = {m['bias_var']}"


def _check_cache_model(g: Grid, done: dict, cache) -> None:
    """ValueError naming ``activation`` when the cache holds points of another network than ``g.model``."""
    want = dict(g.model)
    for row in done.values():
        have = {k: row.get(k) for k in MODEL_KEYS}
        if have != want:
            raise ValueError(f"activation: the cache {cache!r} was made with another network ({_model_text(have)}; "
                             f"this run: {_model_text(want)}); use a new --out (or cache)")


def read_cache(path) -> dict:
    """The points in a cache file by key; unreadable lines (a sweep killed mid-write) are skipped."""
    done = {}
    if path is None or not os.path.exists(path):
        return done
    with open(path) as f:
        for line in f:
            try:
                row = json.loads(line)
                done[key(row)] = row
            except (ValueError, KeyError, TypeError):
                continue
    return done


def _open_cache(path):
    """Open the cache for appending; a torn last line (a killed sweep) is ended first so that the
    next record starts on a line of its own."""
    if path is None:
        return None
    torn = False
    if os.path.exists(path) and os.path.getsize(path) > 0:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
    fh = open(path, "a")
    if torn:
        fh.write("\n")
    return fh


def estimate_seconds(g: Grid) -> float:
    """Rough run time of the whole grid on one worker (the recursion, or the skip-ahead at depths
    where :func:`rntk_sym.ntk` chooses it: :func:`rntk_sym.kernels.estimate_seconds`; another network: the
    general recursion's per-layer cost, :data:`rntk_sym.general.STEP_SECONDS`)."""
    if g.general:
        from .general import STEP_SECONDS

        per_rho = 1 if g.digits is None else len(g.rhos) * 40 * (1 + g.digits / 100)
        return sum(g.depths) * STEP_SECONDS * per_rho * len(g.scales)
    return sum(estimate_seconds_of(g.digits, L, len(g.rhos)) for L in g.depths) * len(g.scales)


def _local_results(tasks, workers):
    if workers == 1 or len(tasks) <= 1:
        for t in tasks:
            yield run_task(t)
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers) as pool:
        for fut in as_completed([pool.submit(run_task, t) for t in tasks]):
            yield fut.result()


def _dask_results(tasks, scheduler):
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError:
        raise MissingExtra(DASK_HINT) from None
    own = None
    if scheduler is None:
        own = LocalCluster(n_workers=MAX_WORKERS, threads_per_worker=1)
        client = Client(own)
    elif isinstance(scheduler, Client):
        client = scheduler
    else:
        address = getattr(scheduler, "scheduler_address", scheduler)
        try:
            client = Client(address, timeout=CONNECT_SECONDS)
        except OSError as exc:  # refused, unreachable, timed out: one line naming the option
            raise ValueError(f"scheduler: no Dask scheduler answered at {address!r} within {CONNECT_SECONDS} s "
                             f"({type(exc).__name__})") from None
    try:
        futures = [client.submit(run_task, t, pure=False) for t in tasks]
        for fut in as_completed(futures):
            yield fut.result()
    finally:
        if client is not scheduler:
            client.close()
        if own is not None:
            own.close()


def sweep(arch="resnet", *, gammas=(), alphas=(), rhos, depths, digits=None, engine="local",
          scheduler=None, workers=MAX_WORKERS, cache=None, resume=True, progress=None, out=None,
          activation=None, weight_var=None, bias_var=None) -> dict:
    """Evaluate ``Omegabar_L(rho)`` on the grid and classify each series over L.

    ``arch``: "ffnet" or "resnet"; ``gammas``: list of gamma (alpha = L^-gamma); ``alphas``: list of
    constant alpha (resnet; neither: gamma = 1); ``rhos``: list of rho in [-1, 1]; ``depths``: list of
    L; ``digits``: None for float64 or significant digits. Numbers may be exact decimal strings.
    ``engine``: "local" (``workers`` <= 2 processes) or "dask" (``scheduler``: an address, a
    ``dask.distributed.Client`` or ``LocalCluster``; None starts a local cluster). ``cache``: a
    JSON-lines file of finished points (``resume=False`` empties it first). ``progress(n_done)`` is
    called as points finish. ``out``: a directory for ``points.csv``, ``series.csv``, ``sweep.json``.
    ``activation``, ``weight_var`` (sigma_w^2 > 0, or ``"eoc"`` for the FFNet), ``bias_var`` (sigma_b^2 >= 0):
    another network than the seeds' relu (docs/activations.md; computed by :func:`rntk_sym.general.kernel`);
    a ``cache`` holding points of another network is refused (ValueError naming ``activation``).

    Returns ``{"grid", "points", "series", "computed", "cached"}``; ``points`` rows hold decimal strings.
    """
    g = grid(arch, gammas=gammas, alphas=alphas, rhos=rhos, depths=depths, digits=digits, activation=activation,
             weight_var=weight_var, bias_var=bias_var)
    engine = inputs.choice("engine", engine, ("local", "dask"))
    if scheduler is not None:
        engine = "dask"
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"workers: must be an integer in [1, {MAX_WORKERS}], got {workers!r}")
    if engine == "dask":  # fail before any work when the extra is absent
        try:
            import dask.distributed  # noqa: F401
        except ImportError:
            raise MissingExtra(DASK_HINT) from None
    if cache is not None and not resume and os.path.exists(cache):
        os.remove(cache)
    done = read_cache(cache)
    _check_cache_model(g, done, cache)
    pts = g.points()
    todo = [p for p in pts if key(p) not in done]
    n_cached = len(pts) - len(todo)
    if progress:
        progress(n_cached)
    tasks = _tasks(g, todo)
    results = _dask_results(tasks, scheduler) if engine == "dask" and tasks else _local_results(tasks, workers)
    n_done = n_cached
    fh = _open_cache(cache)
    try:
        for rows in results:
            for row in rows:
                done[key(row)] = row
                if fh:
                    fh.write(json.dumps(row) + "\n")
            if fh:
                fh.flush()
            n_done += len(rows)
            if progress:
                progress(n_done)
    finally:
        if fh:
            fh.close()
    rows = [done[key(p)] for p in pts]
    series = [classify(g, s, r, [row for row in rows if (row["scale"], row["scale_value"], row["rho"]) == (*s, r)])
              for s in g.scales for r in g.rhos]
    result = {"grid": {"arch": g.arch, "scales": [list(s) for s in g.scales], "rhos": list(g.rhos),
                       "depths": list(g.depths), "digits": g.digits, "model": dict(g.model)},
              "points": rows, "series": series, "computed": len(todo), "cached": n_cached}
    if out is not None:
        write(result, out)
    return result


def omegabar_1(ctx, rho):
    """``Omegabar_1(rho) = (shat(rho) + rho shatp(rho)) / 2`` (docs/model.md sections 1 and 3)."""
    acos = ctx.acos(rho)
    shat = (ctx.sqrt(1 - rho * rho) + (ctx.pi - acos) * rho) / ctx.pi
    shatp = (ctx.pi - acos) / ctx.pi
    return (shat + rho * shatp) / 2


def derived(g: Grid, scale, rho: str) -> dict:
    """What docs/asymptotics.md derives for this series: regime, depth limit (12 digits) and the form
    of the leading correction, to set beside the empirical classification below."""
    from . import asymptotics

    kw = {} if scale[0] == "none" else {scale[0]: _exact(scale[1])}
    if g.general:  # what asymptotics.limit answers for this network, or "not derived" (never a guess)
        try:
            lim = asymptotics.limit(g.arch, _exact(rho), digits=12, **kw,
                                    **{k: v for k, v in g.model if v is not None})
        except ValueError:
            return {"derived_regime": NOT_DERIVED, "derived_limit": NOT_DERIVED, "derived_rate": NOT_DERIVED}
        return {"derived_regime": lim.kind, "derived_limit": mpmath.nstr(lim.value, 12), "derived_rate": lim.form}
    lim = asymptotics.limit(g.arch, _exact(rho), digits=12, **kw)
    return {"derived_regime": lim.kind, "derived_limit": mpmath.nstr(lim.value, 12),
            "derived_rate": asymptotics.leading_rate(g.arch, _exact(rho), **kw)}


def _targets(g: Grid, ctx, r, rho: str, out: dict) -> dict:
    """The candidate limits ``{regime: (value, name)}`` a series is tested against. Seeds' network: Omegabar_1
    and 1/4. Another network: the ResNet's one-hidden-layer kernel (the branch's NTK at depth 1, the limit
    when L alpha^2 -> 0: the general recursion at L = 1) and the derived depth limit where there is one."""
    if not g.general:
        return {"one-hidden-layer": (omegabar_1(ctx, r), "Omegabar_1(rho)"), "degenerate": (ctx.mpf(1) / 4, "1/4")}
    from . import general

    t = {}
    model = {k: v for k, v in g.model if v is not None}
    if g.arch == "resnet":
        kv = general.kernel("resnet", _exact(rho), 1, alpha=1, digits=ctx.dps, **model)
        t["one-hidden-layer"] = (ctx.mpf(kv.value), "the branch's NTK at depth 1")
    if out["derived_limit"] != NOT_DERIVED:
        derived = ctx.mpf(out["derived_limit"])
        # the derived limit of gamma > 1/2 is the one-hidden-layer kernel itself: one candidate, not two
        # (they agree to the 12 printed digits)
        if not any(abs(derived - v) <= 1e-11 * max(1, abs(v)) for v, _ in t.values()):
            t["derived limit"] = (derived, "derived limit (12 digits)")
    return t


def classify(g: Grid, scale, rho: str, rows: list[dict]) -> dict:
    """Regime, limit and fitted rate of one series ``value(L)`` over the grid's depths (see module doc)."""
    ctx = mpmath.MPContext()
    ctx.dps = 20 if g.digits is None else g.digits + 5
    r = ctx.mpf(Fraction(_exact(rho)).numerator) / Fraction(_exact(rho)).denominator
    Ls = [row["depth"] for row in rows]
    v = [ctx.mpf(row["value"]) for row in rows]
    noise = ctx.mpf("1e-12") if g.digits is None else ctx.mpf(10) ** (3 - g.digits)
    out = {"arch": g.arch, "scale": scale[0], "scale_value": scale[1], "rho": rho, "regime": "other",
           "limit": None, "limit_name": None, "last_value": rows[-1]["value"], "distance": None,
           "rate": None, "p": None, "q": None, "c": None, "rate_residual": None, "note": "",
           **derived(g, scale, rho)}
    if r == 1:
        out.update(regime="diagonal", limit="1", limit_name="1 (diagonal)", note="Omegabar_L(x, x) = 1 for every L")
        return out
    if len(v) < 3:
        out["note"] = "fewer than 3 depths: not classified"
        return out
    named = _targets(g, ctx, r, rho, out)
    targets = {k: t for k, (t, _) in named.items()}
    values = list(targets.values())
    gap = abs(values[0] - values[1]) if len(values) == 2 else ctx.mpf(1)
    if gap < ctx.mpf("1e-3"):
        out["note"] = (f"{' and '.join(n for _, n in named.values())} nearly coincide at this rho: regimes "
                       "indistinguishable")
        return out

    def approaches(t):
        e = [abs(x - t) for x in v]
        return e[-1] < e[0] / 2 and e[-1] <= e[-2] + noise <= e[-3] + 2 * noise and e[-1] < gap / 5

    hits = [name for name, t in targets.items() if approaches(t)]
    if len(hits) == 1:
        name = hits[0]
        lim = targets[name]
        out.update(regime=name, limit=mpmath.nstr(lim, 17 if g.digits is None else g.digits),
                   limit_name=named[name][1])
        out["distance"] = mpmath.nstr(abs(v[-1] - lim), 3)
        usable = [(L, abs(x - lim)) for L, x in zip(Ls, v) if L > 1 and abs(x - lim) > noise * (1 + abs(lim))]
        if len(usable) >= 3:
            with warnings.catch_warnings():  # kept in the row instead (a sweep prints no Python warnings)
                warnings.simplefilter("ignore")
                fit = fit_rate([L for L, _ in usable], [e for _, e in usable])
            out.update(
                rate=fit.form,
                p=round(fit.p, 6),
                q=int(fit.q) if fit.q == int(fit.q) else fit.q,
                c=mpmath.nstr(fit.c, 6),
                rate_residual=round(fit.residual, 6),
                **({"rate_warnings": list(fit.warnings)} if fit.warnings else {}),
            )
            if g.general and len(usable) >= 4:  # another network may approach geometrically: c L^k r^L
                ef = fit_exponential([L for L, _ in usable], [e for _, e in usable])
                if ef.residual < fit.residual and ef.r < 1:
                    out.update(rate=ef.form, p=None, q=None, c=mpmath.nstr(ef.c, 6),
                               rate_residual=round(ef.residual, 6))
                    out.pop("rate_warnings", None)
        else:
            out["note"] = "too few depths above the precision floor to fit a rate"
        return out
    d = [abs(b - a) for a, b in zip(v, v[1:])]
    if d[-1] < d[-2] and d[-1] < gap / 5:
        if not targets:
            out.update(regime="settles", note="settles; no candidate limit for this network (not derived)")
            return out
        toward = min(targets, key=lambda n: abs(v[-1] - targets[n]))
        which = "neither limit" if len(targets) > 1 else "no candidate limit"
        out.update(regime="borderline", note=f"settles on {which} (nearer the {toward} value)")
    else:
        out["note"] = "does not settle over these depths"
    return out


POINT_FIELDS = ["arch", "scale", "scale_value", "rho", "depth", "digits", "value", "error"]
SERIES_FIELDS = ["arch", "scale", "scale_value", "rho", "regime", "limit", "limit_name", "last_value",
                 "distance", "rate", "p", "q", "c", "rate_residual", "note", "derived_regime", "derived_limit",
                 "derived_rate"]


def write(result: dict, out) -> dict:
    """Write ``points.csv``, ``series.csv`` and ``sweep.json`` into directory ``out``; return their paths."""
    os.makedirs(out, exist_ok=True)
    files = {"points": os.path.join(out, "points.csv"), "series": os.path.join(out, "series.csv"),
             "json": os.path.join(out, "sweep.json")}
    for name, fields in (("points", POINT_FIELDS), ("series", SERIES_FIELDS)):
        with open(files[name], "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
            w.writeheader()
            w.writerows(result[name])
    with open(files["json"], "w") as f:
        json.dump({k: result[k] for k in ("grid", "points", "series")}, f, indent=1)
    return files


# ----------------------------------------------------------------------------- command line

def _list(name: str, s: str) -> list[str]:
    items = [x.strip() for x in s.split(",") if x.strip()]
    if not items:
        raise ValueError(f"{name}: must be a comma-separated list of numbers, got {s!r}")
    return items


def depth_range(s: str) -> list[int]:
    """``START:STOP:N``: N log-spaced integer depths from START to STOP (duplicates after rounding dropped).
    START and STOP in any exact integer notation (:func:`rntk_sym.inputs.integer`: ``1e5``, ``10^5``);
    the spacing in decimal arithmetic with STOP's digits: exact where it can be (10:1e5:5 gives the
    powers of 10; floats gave 100000000000000020000 for 1e20)."""
    allowed = f"must be START:STOP:N with integers 1 <= START < STOP and 2 <= N <= 1000, got {s!r}"
    parts = s.split(":")
    try:
        a, b = (inputs.integer("depth-range", x) for x in parts[:2]) if len(parts) == 3 else (0, 0)
        n = int(parts[2]) if len(parts) == 3 else 0
    except ValueError:
        a = b = n = 0
    if not 1 <= a < b or not 2 <= n <= 1000:
        raise ValueError(f"depth-range: {allowed}")
    ctx = decimal.Context(prec=len(str(b)) + 10)
    ratio = ctx.divide(Decimal(b), Decimal(a))
    points = {int(ctx.multiply(Decimal(a), ctx.power(ratio, ctx.divide(Decimal(i), Decimal(n - 1))))
                  .to_integral_value(rounding=decimal.ROUND_HALF_EVEN)) for i in range(n)}
    return sorted(points | {a, b})


def add_cli(sub) -> None:
    """The ``rntk explore`` subparser."""
    p = sub.add_parser("explore", help="sweep gamma / alpha, rho, L; classify each series (regime, rate)")
    p.add_argument("--arch", default="resnet", help="ffnet or resnet (default resnet)")
    p.add_argument("--gamma", help="comma-separated gammas (alpha = L^-gamma), exact decimals")
    p.add_argument("--alpha", help="comma-separated constant alphas > 0, exact decimals")
    p.add_argument(
        "--rho",
        required=True,
        help="comma-separated rho in [-1, 1] (write --rho=-0.5,0.5 when the list starts with a minus)",
    )
    d = p.add_mutually_exclusive_group(required=True)
    d.add_argument("--depths", help="comma-separated depths L")
    d.add_argument("--depth-range", help="START:STOP:N, N log-spaced depths")
    p.add_argument("--digits", help="significant digits (default: float64)")
    p.add_argument("--out", default="rntk_explore",
                   help="output directory (default rntk_explore); one holding a previous run is refused "
                        "without --resume")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in OUT: reuse the points cached in OUT/cache.jsonl")
    p.add_argument("--workers", help=f"local processes, 1..{MAX_WORKERS} (default {MAX_WORKERS}; not with --dask)")
    p.add_argument("--dask", action="store_true", help="run on Dask (a local cluster without --scheduler)")
    p.add_argument("--scheduler", help="address of a Dask scheduler (implies --dask)")
    p.add_argument("--json", action="store_true", help="print one JSON object, no progress")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    m = p.add_argument_group("network (docs/activations.md; default relu, weight variance 2, bias variance 0)")
    m.add_argument("--activation", help="NAME[:PARAMS], e.g. erf:1,2,0 or leaky_relu:0.1 (decimal parameters)")
    m.add_argument("--weight-var", help="sigma_w^2 > 0 (exact decimal), or eoc (ffnet): the edge of chaos")
    m.add_argument("--bias-var", help="sigma_b^2 >= 0 (exact decimal)")


def _int_arg(name, s, lo, hi):
    try:
        v = int(s)
    except (TypeError, ValueError):
        v = None
    if v is None or not lo <= v <= hi:
        raise ValueError(f"{name}: must be an integer in [{lo}, {hi}], got {s!r}")
    return v


RESULT_FILES = ("cache.jsonl", "points.csv", "series.csv", "sweep.json")


def _prepare_out(out: str, resume: bool) -> None:
    """Create the output directory ``out``; refuse (ValueError naming ``out``) a path that is a file or
    cannot be created, and a directory holding a previous run's results unless ``resume``: a new
    sweep would replace them (its cache included)."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"out: {out!r} is a file; give a directory for the results")
    if not resume and os.path.isdir(out):
        found = [f for f in RESULT_FILES if os.path.exists(p := os.path.join(out, f)) and os.path.getsize(p) > 0]
        if found:
            raise ValueError(f"out: {out!r} holds a previous run ({', '.join(found)}); use --resume to continue "
                             "it or choose a new --out")
    inputs.writable_dir("out", out, f"the directory {out!r}")


def run(args) -> dict:
    """``rntk explore``: validate, sweep with a progress bar, write the files; the summary as a dict."""
    from .progress import Progress

    depths = depth_range(args.depth_range) if args.depth_range else _list("depths", args.depths)
    digits = None if args.digits is None else _int_arg("digits", args.digits, 1, inputs.MAX_DIGITS)
    dask = bool(args.dask or args.scheduler)
    if dask and args.workers is not None:  # the Dask cluster has its own workers
        raise ValueError("workers: --workers does not apply to --dask/--scheduler (the cluster's workers run "
                         "the tasks)")
    workers = MAX_WORKERS if args.workers is None else _int_arg("workers", args.workers, 1, MAX_WORKERS)
    g = grid(args.arch, gammas=_list("gamma", args.gamma) if args.gamma else (),
             alphas=_list("alpha", args.alpha) if args.alpha else (), rhos=_list("rho", args.rho),
             depths=depths, digits=digits, activation=args.activation, weight_var=args.weight_var,
             bias_var=args.bias_var)
    secs = estimate_seconds(g) / workers
    if secs > MAX_SECONDS:
        raise ValueError(f"depths: this sweep would take about {secs / 3600:.3g} hours "
                         f"(limit {MAX_SECONDS / 3600:g} h); choose fewer or smaller depths")
    n = len(g.points())
    _prepare_out(args.out, args.resume)
    t0 = time.perf_counter()
    with Progress(n, "explore", enabled=not (args.json or args.quiet)) as bar:
        res = sweep(g.arch, gammas=[s[1] for s in g.scales if s[0] == "gamma"],
                    alphas=[s[1] for s in g.scales if s[0] == "alpha"], rhos=g.rhos, depths=g.depths,
                    digits=digits, engine="dask" if dask else "local",
                    scheduler=args.scheduler, workers=workers, cache=os.path.join(args.out, "cache.jsonl"),
                    resume=args.resume, progress=bar, **{k: v for k, v in g.model if v is not None})
    files = write(res, args.out)
    return {"out": args.out, "files": files, "points": n, "computed": res["computed"], "cached": res["cached"],
            "seconds": round(time.perf_counter() - t0, 3), "grid": res["grid"], "model": res["grid"]["model"],
            "series": res["series"]}


def show(res: dict) -> None:
    """Text summary of ``rntk explore``: the classification read from the data, then what is derived."""
    print(f"explore: {res['points']} points ({res['computed']} computed, {res['cached']} from cache), "
          f"{res['seconds']} s; files in {res['out']}/")
    if any(v is not None for v in res.get("model", {}).values()):
        print(f"  network: {res['arch'] if 'arch' in res else res['grid']['arch']} {_model_text(res['model'])} "
              "(rntk_sym.general.kernel)")
    print(f"  {'scale':<12} {'rho':>6}  {'from the data: regime':<22} {'limit':<14} {'rate':<24}"
          f"| derived: limit, leading rate")
    for s in res["series"]:
        scale = "-" if s["scale"] == "none" else f"{s['scale']}={s['scale_value']}"
        lim = s["limit"][:12] if s["limit"] is not None else "?"
        rate = s["rate"] or s["note"]
        rate = rate if len(rate) <= 24 else rate[:21] + "..."
        print(f"  {scale:<12} {s['rho']:>6}  {s['regime']:<22} {lim:<14} {rate:<24}"
              f"| {s['derived_limit'][:12]}, {_short(s['derived_rate'])}")


def _short(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[:n - 3] + "..."
