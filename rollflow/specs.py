"""`FlowSpec`: everything that defines a ground-truth dataset of 2D Kolmogorov flow.

The PDE (vorticity form, periodic square [0, L)², L = `domain_size`):

    ∂ω/∂t + u·∇ω = ν ∇²ω − α ω + f_ω,   u = ∇⊥ψ, ∇²ψ = −ω,
    f_ω = −A k_f cos(k_f y)   (curl of the body force F = A sin(k_f y) x̂)

with ν = `viscosity` = 1/Re, α = `drag`, k_f = `forcing_wavenumber`, A = `forcing_amplitude`.
Time is in nondimensional time units (t.u.). The solver step is derived from a CFL bound
(`courant_number` · dx / `max_velocity`) and shortened so that an integer number of steps
spans one `save_interval`; the step count is therefore exact by construction.

Stdlib only; `to_attrs`/`from_attrs` round-trip exactly through netCDF and zarr attrs.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

from rollflow.conventions import SPEC_ATTR_PREFIX
from rollflow.errors import SpecError

__all__ = ["FlowSpec", "COMPARABLE_FIELDS", "check_comparable", "check_same_truth"]

_REL_TOL = 1e-9
BACKENDS = ("jaxcfd", "exponax")
COURANT_LIMIT = {"jaxcfd": 1.0, "exponax": 0.25}
"""The largest Courant number a backend's scheme is run at (the smaller of this and the
spec's `courant_number` sets the step). exponax's ETDRK2 blew up within 20 t.u. of the
random start at C = 0.5 (64² and 128² DNS, Re = 1000) and was stable at 0.35 and 0.25
(docs/physics.md, "A second solver"); jax-cfd's CN-RK4 runs at the spec's 0.5."""


def _require(condition: bool, field: str, allowed: str, value: Any) -> None:
    if not condition:
        raise SpecError(f"FlowSpec.{field} must be {allowed} (got {value!r})")


def _is_multiple(value: float, unit: float) -> bool:
    ratio = value / unit
    return abs(ratio - round(ratio)) <= _REL_TOL * max(1.0, abs(ratio))


@dataclasses.dataclass(frozen=True, kw_only=True)
class FlowSpec:
    """Physics, grid, time sampling and seeds of a Kolmogorov-flow dataset.

    Attributes:
        simulation_size: DNS grid points per side (even, ≥ 8).
        output_size: saved grid points per side after spectral truncation (even, ≤ simulation_size).
        viscosity: kinematic viscosity ν = 1/Re (> 0), units L²/t.u.
        drag: linear drag coefficient α (≥ 0), units 1/t.u.
        forcing_wavenumber: k_f of the forcing sin(k_f y) x̂ (integer ≥ 1, < simulation_size/2).
        forcing_amplitude: amplitude A of the body force (≥ 0).
        domain_size: side length L of the periodic square (> 0); 2π by convention.
        save_interval: time between saved frames Δt, t.u. (> 0).
        warmup_time: time integrated before the first saved frame, t.u. (≥ 0, a multiple of
            save_interval).
        num_frames: saved frames per trajectory, the first at the end of warm-up (≥ 1).
        num_samples: independent trajectories (≥ 1).
        max_velocity: velocity bound used by the CFL step, L/t.u. (> 0).
        courant_number: CFL number (0 < C ≤ 1).
        initial_peak_wavenumber: peak wavenumber of the filtered random initial field (> 0).
        initial_max_velocity: maximum speed of the random initial velocity (> 0).
        seed: base random seed; sample i uses a key derived from (seed, i) so samples do not
            depend on batch size or on how many samples are generated.
        backend: the pseudo-spectral solver — "jaxcfd" (jax-cfd's CN-RK4, the default) or
            "exponax" (exponax's ETDRK; optional extra `rollflow[exponax]`). Stores written
            before this field existed were made with jax-cfd.
    """

    simulation_size: int = 128
    output_size: int = 32
    viscosity: float = 1e-3
    drag: float = 0.1
    forcing_wavenumber: int = 4
    forcing_amplitude: float = 1.0
    domain_size: float = 2 * math.pi
    save_interval: float = 0.2
    warmup_time: float = 40.0
    num_frames: int = 100
    num_samples: int = 4
    max_velocity: float = 7.0
    courant_number: float = 0.5
    initial_peak_wavenumber: float = 4.0
    initial_max_velocity: float = 7.0
    seed: int = 0
    backend: str = "jaxcfd"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("str", str):
                _require(isinstance(value, str), f.name, "a string", value)
            elif f.type in ("int", int):
                _require(isinstance(value, int) and not isinstance(value, bool),
                         f.name, "an integer", value)
            else:
                _require(isinstance(value, (int, float)) and not isinstance(value, bool)
                         and math.isfinite(value), f.name, "a finite number", value)
                object.__setattr__(self, f.name, float(value))
        _require(self.backend in BACKENDS, "backend", " or ".join(map(repr, BACKENDS)),
                 self.backend)
        n = self.simulation_size
        _require(n >= 8 and n % 2 == 0, "simulation_size", "an even integer ≥ 8", n)
        _require(self.output_size >= 4 and self.output_size % 2 == 0, "output_size",
                 "an even integer ≥ 4", self.output_size)
        _require(self.output_size <= n, "output_size",
                 f"≤ simulation_size = {n}", self.output_size)
        _require(self.viscosity > 0, "viscosity", "> 0", self.viscosity)
        _require(self.drag >= 0, "drag", "≥ 0", self.drag)
        _require(1 <= self.forcing_wavenumber < n // 2, "forcing_wavenumber",
                 f"an integer in [1, {n // 2 - 1}] (below the Nyquist wavenumber)",
                 self.forcing_wavenumber)
        _require(self.forcing_amplitude >= 0, "forcing_amplitude", "≥ 0", self.forcing_amplitude)
        _require(self.domain_size > 0, "domain_size", "> 0", self.domain_size)
        _require(self.save_interval > 0, "save_interval", "> 0 t.u.", self.save_interval)
        _require(self.warmup_time >= 0, "warmup_time", "≥ 0 t.u.", self.warmup_time)
        _require(_is_multiple(self.warmup_time, self.save_interval), "warmup_time",
                 f"a multiple of save_interval = {self.save_interval}", self.warmup_time)
        _require(self.num_frames >= 1, "num_frames", "≥ 1", self.num_frames)
        _require(self.num_samples >= 1, "num_samples", "≥ 1", self.num_samples)
        _require(self.max_velocity > 0, "max_velocity", "> 0", self.max_velocity)
        _require(0 < self.courant_number <= 1, "courant_number", "in (0, 1]", self.courant_number)
        _require(self.initial_peak_wavenumber > 0, "initial_peak_wavenumber", "> 0",
                 self.initial_peak_wavenumber)
        _require(self.initial_max_velocity > 0, "initial_max_velocity", "> 0",
                 self.initial_max_velocity)
        _require(self.seed >= 0, "seed", "≥ 0", self.seed)

    # ---- derived quantities -------------------------------------------------------------
    @property
    def reynolds_number(self) -> float:
        """Re = 1/ν (length and velocity scales of the forcing are 1)."""
        return 1.0 / self.viscosity

    @property
    def grid_spacing(self) -> float:
        """Simulation grid spacing dx = L / N."""
        return self.domain_size / self.simulation_size

    @property
    def steps_per_frame(self) -> int:
        """Solver steps per save interval: ceil(Δt / dt_CFL), dt_CFL = C dx / u_max with
        C the smaller of `courant_number` and the backend's COURANT_LIMIT."""
        courant = min(self.courant_number, COURANT_LIMIT[self.backend])
        dt_cfl = courant * self.grid_spacing / self.max_velocity
        return max(1, math.ceil(self.save_interval / dt_cfl - _REL_TOL))

    @property
    def time_step(self) -> float:
        """Solver time step dt = save_interval / steps_per_frame, t.u. (≤ the CFL step)."""
        return self.save_interval / self.steps_per_frame

    @property
    def warmup_frames(self) -> int:
        """Number of save intervals in the warm-up."""
        return round(self.warmup_time / self.save_interval)

    @property
    def duration(self) -> float:
        """Saved time span of one trajectory, (num_frames − 1) · Δt, t.u."""
        return (self.num_frames - 1) * self.save_interval

    def replace(self, **changes: Any) -> "FlowSpec":
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # ---- attrs round trip ---------------------------------------------------------------
    def to_attrs(self) -> dict[str, int | float | str]:
        """Flat attrs `flow_<field>` → value (ints, floats and the backend's name)."""
        return {SPEC_ATTR_PREFIX + f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "FlowSpec":
        """Rebuild a spec from dataset attrs written by `to_attrs` (other attrs are ignored).

        Raises SpecError naming any missing field (`flow_backend`, added later, defaults
        to jax-cfd).
        """
        attrs = {SPEC_ATTR_PREFIX + "backend": "jaxcfd", **attrs}
        names = [f.name for f in dataclasses.fields(cls)]
        missing = [n for n in names if SPEC_ATTR_PREFIX + n not in attrs]
        if missing:
            raise SpecError("attrs do not describe a FlowSpec; missing "
                            + ", ".join(SPEC_ATTR_PREFIX + n for n in missing))
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            raw = attrs[SPEC_ATTR_PREFIX + f.name]
            raw = raw.item() if hasattr(raw, "item") else raw  # numpy scalar → Python
            kwargs[f.name] = (str(raw) if f.type in ("str", str) else
                              int(raw) if f.type in ("int", int) else float(raw))
        return cls(**kwargs)


COMPARABLE_FIELDS = ("viscosity", "drag", "forcing_wavenumber", "forcing_amplitude",
                     "domain_size", "save_interval", "output_size")
"""What a forecast and its truth must share to be compared: the physics, the time between
frames and the output grid. The DNS grid, warm-up, seeds and sample counts may differ
(a model trained on 128² DNS is rightly scored on 256² DNS data)."""


def check_comparable(first: Mapping[str, Any], second: Mapping[str, Any], *,
                     names: tuple[str, str] = ("forecast", "truth")) -> None:
    """SpecError naming the fields of COMPARABLE_FIELDS whose `flow_*` attrs differ.

    Attrs missing on either side are not compared (a store without a spec says nothing).
    """
    differing = []
    for field in COMPARABLE_FIELDS:
        key = SPEC_ATTR_PREFIX + field
        if key in first and key in second:
            a, b = first[key], second[key]
            same = (math.isclose(float(a), float(b), rel_tol=_REL_TOL, abs_tol=0.0)
                    if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a == b)
            if not same:
                differing.append(f"{field} {a!r} vs {b!r}")
    if differing:
        raise SpecError(f"{names[0]} and {names[1]} describe different flows "
                        f"({names[0]} vs {names[1]}): {'; '.join(differing)}")


_LENGTH_FIELDS = ("num_frames", "num_samples")
_SOURCE_ATTRS = ("segments_source", "segments_starts")


def check_same_truth(forecast: Mapping[str, Any], truth: Mapping[str, Any], *,
                     names: tuple[str, str] = ("forecast", "truth")) -> None:
    """SpecError unless `truth` is the store the forecast started from (its recorded
    `flow_*` attrs): the same physics and also the same seed, DNS grid, warm-up and initial
    fields, so that sample i is the same trajectory in both. Only the number of frames and
    samples may differ (a longer or larger run of the same seeds); segment stores must
    share their cuts. The one line names every differing field."""
    check_comparable(forecast, truth, names=names)
    differing = []
    for field in dataclasses.fields(FlowSpec):
        key = SPEC_ATTR_PREFIX + field.name
        if field.name in _LENGTH_FIELDS or field.name in COMPARABLE_FIELDS:
            continue
        a, b = forecast.get(key), truth.get(key)
        if a is not None and b is not None and not (
                math.isclose(float(a), float(b), rel_tol=_REL_TOL, abs_tol=0.0)
                if isinstance(a, (int, float)) and isinstance(b, (int, float)) else a == b):
            differing.append(f"{field.name} {a!r} vs {b!r}")
    for key in _SOURCE_ATTRS:
        if forecast.get(key) != truth.get(key):
            differing.append(f"{key} {forecast.get(key)!r} vs {truth.get(key)!r}")
    if differing:
        raise SpecError(f"{names[1]} is not the truth {names[0]} started from "
                        f"({names[0]} vs {names[1]}): {'; '.join(differing)}")
