"""chipalloc: procurement allocation optimizer for AI chips.

Library use::

    from optimizer import load, make_plan
    plan = make_plan(load("scenarios/bytedance-2025.yaml"))
    plan.totals["effective_tops"]
"""
__version__ = "0.1.0"

from .errors import ChipallocError, InfeasibleError, InputError, OutputError, UnboundedError, VerificationError  # noqa: E402
from .io import load  # noqa: E402
from .plan import make_plan  # noqa: E402

__all__ = [
    "__version__",
    "load",
    "make_plan",
    "ChipallocError",
    "InputError",
    "OutputError",
    "InfeasibleError",
    "UnboundedError",
    "VerificationError",
]
