"""Figures and numbers for docs/physics.md from a real trajectory store (thin script).

    .venv/bin/python experiments/physics_figures.py data/kf64_small.zarr --out docs/figures

Writes <out>/<stem>_spectrum.png (time- and sample-averaged E(k), k⁻³ line),
<out>/<stem>_vorticity.png (sample 0 at the last saved time) and
<out>/<stem>_physics.json (mean kinetic energy and enstrophy, Parseval check, spectral
slope, with the store, command, commit and machine). All logic lives in rollflow.analysis.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import xarray as xr

from rollflow import analysis
from rollflow.conventions import SAMPLE, TIME, VORTICITY
from rollflow.store import open_trajectories, read_spec

SLOPE_BAND = (8.0, 20.0)  # shells between the forcing (k_f = 4) and the dissipation range


def _provenance(store: Path, wall: float) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip()
    return {"store": str(store), "command": " ".join([Path(sys.executable).name] + sys.argv),
            "commit": commit, "wall_time_s": round(wall, 1),
            "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
                       f"Python {platform.python_version()}"}


def _numbers(vorticity: xr.DataArray, spectrum: xr.DataArray) -> dict:
    energy = analysis.kinetic_energy(vorticity)
    enstrophy = analysis.enstrophy(vorticity)
    parseval = float(abs(analysis.energy_spectrum(vorticity).sum("k") / energy - 1).max())
    return {
        "kinetic_energy_mean": float(energy.mean()), "kinetic_energy_std": float(energy.std()),
        "enstrophy_mean": float(enstrophy.mean()), "enstrophy_std": float(enstrophy.std()),
        "parseval_max_relative_error": parseval,
        "spectral_slope": float(analysis.spectral_slope(spectrum, k_min=SLOPE_BAND[0],
                                                        k_max=SLOPE_BAND[1])),
        "slope_band": list(SLOPE_BAND),
        "frames": int(vorticity.sizes[SAMPLE] * vorticity.sizes[TIME]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/figures"))
    args = parser.parse_args()
    start = time.perf_counter()
    stem = args.store.stem
    vorticity = open_trajectories(args.store)[VORTICITY]
    spec = read_spec(args.store)
    spectrum = analysis.energy_spectrum(vorticity, average_dims=(SAMPLE, TIME)).compute()
    figure = analysis.plot_spectrum(spectrum, k_max=spec.output_size // 2)
    figure.axes[0].set_title(f"{stem}: Re = {spec.reynolds_number:g}, {spec.simulation_size}² "
                             f"DNS → {spec.output_size}², mean over "
                             f"{vorticity.sizes[SAMPLE]}×{vorticity.sizes[TIME]} frames",
                             fontsize="small")
    analysis.save_figure(figure, args.out / f"{stem}_spectrum.png")
    frame = vorticity.isel({SAMPLE: 0, TIME: -1})
    label = f"sample {int(frame[SAMPLE])}, t = {float(frame[TIME]):g} t.u."
    analysis.save_figure(analysis.plot_vorticity(frame.drop_vars([SAMPLE, TIME]),
                                                 truth_label=label),
                         args.out / f"{stem}_vorticity.png")
    numbers = _numbers(vorticity, spectrum)
    numbers.update(_provenance(args.store, time.perf_counter() - start))
    path = args.out / f"{stem}_physics.json"
    path.write_text(json.dumps(numbers, indent=2) + "\n")
    print(json.dumps(numbers, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
