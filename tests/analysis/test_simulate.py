"""Monte Carlo draws: reproducible for a seed whatever the chunking, and checked against an independent evaluation.

sim_single.yaml (no periods, no outcomes): the plan is 40 a and 60 b (8,060 effective TOPS); each draw keeps it
and draws each vendor's delivery rate from a Beta distribution with the vendor's mean and standard deviation. The
independent evaluation below redraws the same rates from the same streams and sums units x TOPS x rate in numpy.
"""
from __future__ import annotations

import numpy as np
import pytest

from conftest import FIXTURES, SCENARIOS
from optimizer import io
from optimizer.analysis.simulate import beta_draw, simulate


def independent(draws: int, seed: int) -> np.ndarray:
    out = []
    for d in range(draws):
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(d,)))
        ra, rb = beta_draw(rng, 0.8, 0.1), beta_draw(rng, 0.9, 0.05)  # vendors in sorted order: va, vb
        out.append(40 * 100 * ra + 60 * 90 * rb)
    return np.array(out)


def test_draws_equal_an_independent_numpy_evaluation():
    res = simulate(io.load(FIXTURES / "sim_single.yaml"), draws=500, seed=7)
    assert res.plan_effective_tops == pytest.approx(8060)
    want = independent(500, 7)
    np.testing.assert_allclose(res.values, want, rtol=1e-12)
    st = res.stats()
    assert st["mean"] == pytest.approx(want.mean(), rel=1e-12)
    assert st["sd"] == pytest.approx(want.std(ddof=1), rel=1e-12)
    for q in (5, 50, 95):
        assert st[f"p{q}"] == pytest.approx(np.percentile(want, q), rel=1e-12)


def test_beta_draws_have_the_mean_and_spread_asked_for():
    rng = np.random.default_rng(0)
    x = np.array([beta_draw(rng, 0.8, 0.1) for _ in range(20000)])
    assert x.mean() == pytest.approx(0.8, abs=0.004) and x.std() == pytest.approx(0.1, abs=0.003)
    assert (x >= 0).all() and (x <= 1).all()


def test_target_probability_and_variance_shares():
    res = simulate(io.load(FIXTURES / "sim_single.yaml"), draws=2000, seed=1, target=8060)
    want = independent(2000, 1)
    assert res.prob_below_target() == pytest.approx(np.mean(want < 8060))
    shares = {c["source"]: c["share"] for c in res.contributions()}
    # TOPS = 4000 ra + 5400 rb with independent draws: variance shares 4000^2 0.1^2 : 5400^2 0.05^2 = 0.846 : 0.154
    total = 4000**2 * 0.01 + 5400**2 * 0.0025
    assert shares["va"] == pytest.approx(4000**2 * 0.01 / total, abs=0.03)
    assert shares["vb"] == pytest.approx(5400**2 * 0.0025 / total, abs=0.03)


def test_same_seed_same_numbers_whatever_the_chunking():
    from optimizer.analysis.executor import SerialExecutor

    loaded = io.load(FIXTURES / "sim_single.yaml")
    a = simulate(loaded, draws=64, seed=3)

    class Small(SerialExecutor):  # chunks of one draw
        def run(self, task, payload, items, chunk_size=None, on_done=None):
            return super().run(task, payload, items, chunk_size=1, on_done=on_done)

    b = simulate(loaded, draws=64, seed=3, executor=Small())
    assert a.to_dict() == b.to_dict()
    assert simulate(loaded, draws=64, seed=4).to_dict() != a.to_dict()


def test_risk_scenario_picks_outcomes_by_probability_and_reoptimises_later_orders():
    # without spread in the delivery rates (delivery_sd 0), a draw is its outcome
    still = [f"vendors.{v}.delivery_sd=0" for v in ("huawei", "cambricon", "nvidia")]
    loaded = io.load(SCENARIOS / "bytedance-2025-risk.yaml", sets=still)
    res = simulate(loaded, draws=200, seed=11)
    counts = {o["name"]: o["draws"] for o in res.by_outcome()}
    assert sum(counts.values()) == 200
    probs = {k: o.probability for k, o in loaded.scenario.uncertainty.outcomes.items()}
    for name, n in counts.items():  # within 4 standard deviations of the binomial
        p = probs[name]
        assert abs(n - 200 * p) <= 4 * (200 * p * (1 - p)) ** 0.5 + 1
    # the hedged plan re-optimised in the draw's outcome
    from optimizer.analysis.risk import risk_figures
    from optimizer.plan import make_plan

    fig = {o.name: o.effective_tops for o in risk_figures(make_plan(loaded)).outcomes}
    for d in res.draws:
        assert d.effective_tops == pytest.approx(fig[d.outcome], rel=1e-7)


# ----------------------------------------------------------------------------- each draw against a rebuilt model
def rebuilt_draw(loaded, variants, d: int, seed: int) -> float:
    """Draw d solved independently: the outcome's scenario with the drawn rates written into it as delivery_rate,
    built from scratch (one outcome, known, maximising its TOPS), the plan's shared orders fixed, solved cold."""
    import dataclasses

    from optimizer import model as model_mod
    from optimizer.analysis.simulate import draw_inputs, prepare
    from optimizer.model import BUY, LEASE, NONE
    from optimizer.solve import Solver

    plan, work = prepare(loaded)
    work.seed, work.draws = seed, d + 1
    name, rates = draw_inputs(work, d)
    s = work.scenario
    world = work.outcomes[name]
    vendors = {v: vd.model_copy(update={"delivery_rate": rates.get(v, vd.delivery_rate)}) for v, vd in world.vendors.items()}
    world = world.model_copy(update={"vendors": vendors})
    unc = s.uncertainty.model_copy(update={
        "outcomes": {name: s.uncertainty.outcomes[name].model_copy(update={"probability": 1.0})},
        "risk": s.uncertainty.risk.model_copy(update={"measure": "expected"})})
    m = model_mod.build(s.model_copy(update={"uncertainty": unc}), {name: world})
    shared = np.array([int(m.var.outcome[j]) == NONE and int(m.var.kind[j]) in (BUY, LEASE) for j in range(m.n)])
    at = np.array([work.fixed.get(n, 0.0) for n in m.var.name])
    var = dataclasses.replace(m.var, lower=np.where(shared, at, m.var.lower), upper=np.where(shared, at, m.var.upper))
    fm = dataclasses.replace(m, var=var)
    res = Solver(fm, "highs").solve(tie_break=False, duals=False)
    return float(fm.c @ np.asarray(res.units))


@pytest.mark.parametrize("variant", [(), ("worst_case",), ("cvar_90",)])
def test_each_draw_equals_a_model_rebuilt_with_the_drawn_rates(variant):
    """The drawn rates count whatever the measure the plan maximised (a CVaR or worst-case world once hid them)."""
    loaded = io.load(SCENARIOS / "bytedance-2025-risk.yaml", variants=list(variant))
    res = simulate(loaded, draws=12, seed=5)
    for d in res.draws:
        assert d.rates  # every vendor of the shipped scenario has a delivery_sd
        assert d.effective_tops == pytest.approx(rebuilt_draw(loaded, variant, d.index, 5), rel=1e-9)


def test_a_draw_does_not_depend_on_the_draws_before_it():
    """Each draw starts from its world's planned-rate basis: draws solved in reverse, each on a fresh copy of
    the work, give the same bits as draws solved in order on one."""
    from optimizer.analysis.simulate import prepare, run_draws

    loaded = io.load(SCENARIOS / "bytedance-2025-risk.yaml")
    _, work = prepare(loaded)
    work.seed, work.draws = 2, 80
    in_order = list(run_draws(work, list(range(80))))
    fresh = []
    for d in reversed(range(80)):
        _, w = prepare(loaded)
        w.seed, w.draws = 2, 80
        fresh += list(run_draws(w, [d]))
    assert in_order == fresh[::-1]
