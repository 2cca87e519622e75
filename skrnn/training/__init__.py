"""The training loop (backend-agnostic) and the per-backend compiled step."""

from ._backends import make_step, release_caches
from ._distribute import resolve_strategy, strategy_scope
from ._loop import new_history, run_epochs
from ._losses import weighted_loss
from ._optimizers import get_optimizer
from ._outputs import calibrate_normalisation, predict_outputs
from ._settings import LoopSettings
from ._step import Step, clip_gradients

__all__ = ["LoopSettings", "Step", "calibrate_normalisation", "clip_gradients",
           "get_optimizer", "make_step", "new_history", "predict_outputs", "release_caches",
           "resolve_strategy", "run_epochs", "strategy_scope", "weighted_loss"]
