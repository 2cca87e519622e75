"""The settings of one run of the training loop, as one value."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LoopSettings:
    """How :func:`~skrnn.training.run_epochs` trains (the estimator's parameters,
    resolved for this fit).

    Attributes
    ----------
    epochs : int
        At most this many epochs.
    batch_size : int
    early_stopping : bool
        Monitor the validation loss (else the training loss), stop when it has not
        improved by ``tol`` for ``n_iter_no_change`` epochs, and restore the weights of
        the best epoch (see :class:`~skrnn.training._monitor.Monitor`).
    n_iter_no_change : int
    tol : float
    lr_schedule : {"plateau", "constant"}
        ``"plateau"``: when the monitored loss has not improved by ``tol`` for
        ``max(1, n_iter_no_change // 2)`` epochs, multiply the learning rate by
        ``PLATEAU_FACTOR`` (at most once per such wait, never below
        ``MIN_LR_FRACTION`` of the starting rate).
    stop_on_plateau : bool
        Without ``early_stopping``: stop when the training loss has not improved by
        ``tol`` for ``n_iter_no_change`` epochs (scikit-learn's ``MLPClassifier``
        convergence rule). The last weights are kept.
    warn_convergence : bool
        Issue a ``ConvergenceWarning`` when ``epochs`` ran out while the monitored
        loss was still improving.
    truncate_steps : int, optional
        Truncated BPTT with chunks of this many steps (full BPTT when None).
    verbose : int
    score_name : str
        The name of the validation score in the progress lines.
    callbacks : list of keras.callbacks.Callback, optional
        Called at Keras' hook points (see :class:`~skrnn.training._callbacks.Hooks`);
        a ``BackupAndRestore`` among them backs the fit up after every epoch and
        resumes it from its backup (see :mod:`skrnn.training._backup`).
    fit_key : str
        The estimator's settings, which (with the data) identify a fit's backups.
    """

    epochs: int
    batch_size: int
    early_stopping: bool = False
    n_iter_no_change: int = 10
    tol: float = 1e-4
    lr_schedule: str = "constant"
    stop_on_plateau: bool = False
    warn_convergence: bool = False
    truncate_steps: int | None = None
    verbose: int = 0
    score_name: str = "score"
    callbacks: list | None = None
    fit_key: str = ""
