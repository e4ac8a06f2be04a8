"""Names shared by every layer: dimensions, variables and attribute keys.

Stdlib only. Everything that names a dim, a variable or an attr in a dataset uses these
constants, so no layer ever infers a dimension from an array size (x and y have the same
length).
"""

from __future__ import annotations

__all__ = [
    "SAMPLE", "TIME", "X", "Y", "MEMBER", "MODEL", "LEAD_TIME", "K", "TRAJECTORY",
    "VORTICITY", "TRAJECTORY_DIMS", "FORECAST_DIMS", "SPATIAL_DIMS",
    "SPEC_ATTR_PREFIX", "FORMAT_ATTR", "FORMAT_NAME", "FORMAT_VERSION",
    "GRID_ATTR", "GRID_NODES", "TIME_UNITS",
]

# Dimensions.
SAMPLE = "sample"        # independent trajectory (different random initial state)
TIME = "time"            # time since the end of warm-up (first saved frame at 0), t.u.
X = "x"                  # first array axis; the forcing does not depend on it
Y = "y"                  # second array axis; forcing sin(k_f y) varies along it
MEMBER = "member"        # ensemble member of a forecast
MODEL = "model"          # which model/solver produced a trajectory (truth, rolling, ...)
LEAD_TIME = "lead_time"  # time since forecast initialisation, t.u.
K = "k"                  # isotropic wavenumber shell (integer, angular units on [0, 2π))
TRAJECTORY = "trajectory"  # coordinate along `sample`: which solver trajectory a sample
                           # (an initial state) was cut from; the bootstrap's cluster

SPATIAL_DIMS = (X, Y)
TRAJECTORY_DIMS = (SAMPLE, TIME, X, Y)
FORECAST_DIMS = (SAMPLE, MEMBER, TIME, X, Y)

# Variables.
VORTICITY = "vorticity"  # ω = ∂_x v − ∂_y u, units 1/t.u.

# Attributes.
SPEC_ATTR_PREFIX = "flow_"          # FlowSpec fields are stored as flow_<field>
FORMAT_ATTR = "rollflow_format"     # marks a dataset as a rollflow store
FORMAT_NAME = "rollflow-trajectories"
FORMAT_VERSION = 1
GRID_ATTR = "grid_points"           # "nodes": x_j = j L / N, left end included
GRID_NODES = "nodes"
TIME_UNITS = "t.u."                 # nondimensional time unit (L/2π = 1, forcing amplitude 1)
