"""Random but realistic chipalloc scenarios of any size, for benchmarks (deterministic for a seed).

    python benchmarks/generate.py SITES CHIPS [--seed N] [--integer] [--periods P] [--outcomes K] > scenario.yaml

Each site has a budget, a domestic floor and a power envelope; vendors have capacities and share caps;
some chips are controlled (denied in China, capped in a Tier-2 country). Prices, TOPS and power are drawn
around the reference figures (../shared/reference/chip-data.md).
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import yaml


def scenario(n_sites: int, n_chips: int, seed: int = 0, integer: bool = False, periods: int = 0,
             outcomes: int = 0, export_controls: bool = True) -> dict:
    rng = np.random.default_rng(seed)
    vendors = {
        "dom1": {"origin": "CN", "capacity_units": float(40_000 * n_sites), "delivery_rate": 0.85, "max_share": 0.7},
        "dom2": {"origin": "CN", "capacity_units": float(30_000 * n_sites), "delivery_rate": 0.9},
        "us1": {"origin": "US", "delivery_rate": 0.95},
        "us2": {"origin": "US", "delivery_rate": 0.95},
    }
    names = list(vendors)
    chips = {}
    for i in range(n_chips):
        v = names[i % len(names)]
        tops = float(rng.integers(150, 2000))
        price = float(round(tops * rng.uniform(80, 200), -2))
        c = {"vendor": v, "architecture": "asic" if v.startswith("dom") else "gpgpu", "int8_tops": tops,
             "unit_price": price, "power_w": float(rng.integers(250, 800)), "die_area_mm2": float(rng.integers(500, 900))}
        if integer:
            c["lot_size"] = int(rng.choice([1, 1, 8, 16]))
        chips[f"c{i:03d}"] = c
    sites = {}
    for k in range(n_sites):
        country = "CN" if k % 3 else "MY"
        sites[f"s{k:02d}"] = {
            "country": country,
            "budget": {"amount": float(rng.integers(5, 40)) * 1e8},
            "power_mw": float(rng.integers(20, 120)),
            **({"domestic_min_share": 0.6} if country == "CN" else {}),
        }
    data = {
        "schema_version": 2 if periods else 1,
        "name": f"generated {n_sites} x {n_chips} (seed {seed})",
        "currency": "CNY",
        "integer_units": integer,
        "flexibility": {"gpgpu": 1.0, "asic": 0.75},
        "vendors": vendors,
        "chips": chips,
        "sites": sites,
        "export_controls": {
            "origins": ["US"],
            "controlled_if": [{"tpp_min": 4800}, {"tpp_min": 1600, "density_min": 5.92}],
            "tiers": {"CN": 3, "MY": 2},
            "tpp_caps": {"MY": 790e6 * max(1, n_sites // 3)},
        },
    }
    if not export_controls:  # every (site, chip) a column: sites x chips variables exactly
        del data["export_controls"]
    if periods:
        data["periods"] = [f"p{t + 1}" for t in range(periods)]
        for v in ("dom1", "dom2"):
            vendors[v]["lead_time"] = 1
    if outcomes:
        # each outcome: one vendor's delivery rate drawn lower, and (every third) a US chip denied to China
        # for deliveries from the second period on; probabilities from a Dirichlet draw
        probs = rng.dirichlet(np.ones(outcomes))
        probs = [float(f"{p:.12g}") for p in probs]
        probs[-1] = float(f"{1.0 - sum(probs[:-1]):.15g}")
        us_chips = [c for c, spec in chips.items() if spec["vendor"].startswith("us")]
        table = {}
        for k in range(outcomes):
            changes = {f"vendors.{names[k % len(names)]}.delivery_rate": float(round(rng.uniform(0.4, 0.95), 3))}
            if k % 3 == 0 and us_chips and periods:
                c = us_chips[k % len(us_chips)]
                changes[f"export_controls.licenses.deny_{k}"] = {"chip": c, "country": "CN", "status": "deny",
                                                                 "from": data["periods"][min(1, periods - 1)]}
            table[f"o{k:03d}"] = {"probability": probs[k], "changes": changes}
        data.setdefault("export_controls", {"origins": ["US"]})["licenses"] = {}
        data["schema_version"] = 2
        data["uncertainty"] = {"revealed": data["periods"][1] if periods > 1 else None, "outcomes": table}
        if not data["uncertainty"]["revealed"]:
            del data["uncertainty"]["revealed"]
    return data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sites", type=int)
    ap.add_argument("chips", type=int)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--integer", action="store_true")
    ap.add_argument("--periods", type=int, default=0)
    ap.add_argument("--outcomes", type=int, default=0)
    ap.add_argument("--no-export-controls", action="store_true", help="no export controls: sites x chips columns")
    a = ap.parse_args()
    yaml.safe_dump(scenario(a.sites, a.chips, a.seed, a.integer, a.periods, a.outcomes, not a.no_export_controls),
                   sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
