"""`rollflow info PATH`: what a trajectory store holds and its basic statistics.

Prints the flow spec (physics, grids, solver step, Re), sizes (in memory, on disk,
compression ratio), how many samples are complete, and — over the complete samples — the
time mean of the domain-averaged kinetic energy KE = ½⟨|u|²⟩ and enstrophy Z = ½⟨ω²⟩
together with their standard deviation over time (averaged over samples). A statistically
stationary Re = 1000 Kolmogorov flow has KE ≈ 1 and Z ≈ 10–11.

The physics check line says whether each complete sample obeys the flow its attrs claim
(rollflow.analysis.budget): the energy budget dE/dt = ⟨u·F⟩ − 2νZ − 2αE closes within 3 % of
the injection, the injection is positive, the eddy momentum flux 2⟨u′v′ cos k_f y⟩ is
negative (orientation), and no sample's KE or Z lies far outside the others'. A negated,
mirrored or mislabelled store fails it in one line. Stores written by this rollflow carry
the checks of each sample, computed when it was written; older stores are checked from
their frames. For the standard flows (KF32, KF64) each sample's time means are also held
against a reference envelope shipped with the package (rollflow.analysis.envelope).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any


ORDER = 20


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "info", help="describe a trajectory store (spec, sizes, completeness, statistics)",
        description=__doc__.split("\n\n", 1)[1])
    parser.add_argument("path", type=Path, help="a .zarr store or .nc file")
    parser.set_defaults(run=run)


def _disk_bytes(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _size(num_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.3g} {unit}"
    return f"{num_bytes:.0f} B"


def describe_spec(spec: Any) -> list[tuple[str, str]]:
    """(label, text) rows describing a FlowSpec."""
    return [
        ("physics", f"Re = {spec.reynolds_number:g} (ν = {spec.viscosity:g}), drag α = "
                    f"{spec.drag:g}, forcing {spec.forcing_amplitude:g}·sin("
                    f"{spec.forcing_wavenumber} y) x̂, domain [0, {spec.domain_size:.6g})²"),
        ("grids", f"DNS {spec.simulation_size}² → saved {spec.output_size}² "
                  "(grid nodes j·L/n)"),
        ("time", f"solver dt = {spec.time_step:.6g} t.u. ({spec.steps_per_frame} steps per "
                 f"frame, Courant {spec.courant_number:g} at u_max {spec.max_velocity:g}); "
                 f"frames every {spec.save_interval:g} t.u. after {spec.warmup_time:g} t.u. "
                 "warm-up"),
        ("frames", f"{spec.num_frames} per sample ({spec.duration:g} t.u.)"),
        ("solver", {"jaxcfd": "jax-cfd (spectral CN-RK4)",
                    "exponax": "exponax (ETDRK2)"}[spec.backend]),
    ]


def flow_statistics(vorticity: Any) -> list[tuple[str, str]]:
    """Rows for KE and enstrophy of a (sample, time, x, y) vorticity DataArray."""
    from rollflow.analysis.fields import flow_statistics as statistics

    rows = []
    for (label, units), stats in zip((("kinetic energy", "L²/t.u.²"), ("enstrophy", "1/t.u.²")),
                                     statistics(vorticity).values()):
        rows.append((label, f"{stats['mean']:.4g} {units} (time mean over "
                            f"{stats['samples']} samples × {stats['frames']} frames); "
                            f"std over time {stats['std_over_time']:.3g}"))
    return rows


def physics_row(vorticity: Any, spec: Any, recorded: Any = None) -> tuple[str, str]:
    """("physics check", "ok — …" or "FAILED in k of n samples — <first reason>"): the checks
    recorded at write time when given (`store.recorded_checks`), else computed from the
    frames; samples are also held against the shipped reference envelope of their flow."""
    from rollflow.analysis.budget import check_messages, spec_physics_checks
    from rollflow.analysis.envelope import envelope_messages, reference_envelope

    if vorticity.sizes["time"] < 2:
        return ("physics check", "not checked (fewer than 2 frames per sample)")
    checks = recorded if recorded is not None else spec_physics_checks(vorticity, spec)
    source = "recorded at write time" if recorded is not None else "computed from the frames"
    envelope = reference_envelope(spec)
    failures = check_messages(checks)
    if envelope is not None:
        failures += envelope_messages(checks, envelope, spec.duration)
    r, flux = checks.budget_residual.values, checks.eddy_momentum_flux.values
    if failures:
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return ("physics check",
                f"FAILED in {len(failures)} of {r.size} samples — {failures[0]}{more}")
    inside = (f"; every sample inside the {envelope['name']} reference envelope"
              if envelope is not None else "; no shipped reference envelope for this flow")
    return ("physics check", f"ok ({source}) — energy budget residual {r.min():+.1%} … "
                             f"{r.max():+.1%} of the injection, eddy momentum flux "
                             f"{flux.min():+.3g} … {flux.max():+.3g}{inside}")


def run(args: argparse.Namespace) -> int:
    from rollflow import store
    from rollflow.conventions import VORTICITY

    spec = store.read_spec(args.path)
    done = store.completed_samples(args.path)
    ds = store.open_trajectories(args.path, allow_incomplete=True)
    try:
        attrs = ds.attrs
        nbytes = ds[VORTICITY].nbytes
        disk = _disk_bytes(args.path)
        fmt = f"{attrs.get('rollflow_format')} v{attrs.get('rollflow_format_version')}"
        rows = [("store", f"{args.path} ({store.store_format(args.path)}, {fmt})"),
                ("created", f"{attrs.get('created', '?')} by: {attrs.get('command', '?')}"),
                *describe_spec(spec),
                ("samples", f"{int(done.sum())} of {done.size} complete (seed {spec.seed})"),
                ("size", f"{_size(nbytes)} {ds[VORTICITY].dtype} vorticity, {_size(disk)} on disk "
                         f"({nbytes / max(disk, 1):.2f}× compression"
                         + ("" if done.all() else "; unwritten samples take no space") + ")")]
        if done.any():
            indices = [i for i, ok in enumerate(done) if ok]
            complete = ds[VORTICITY].isel(sample=indices)
            recorded = store.recorded_checks(args.path, spec, indices)
            rows += [*flow_statistics(complete), physics_row(complete, spec, recorded)]
    finally:
        ds.close()
    width = max(len(label) for label, _ in rows)
    for label, text in rows:
        print(f"{label:<{width}}  {text}")
    return 0
