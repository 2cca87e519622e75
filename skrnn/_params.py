"""Shared parameter documentation and validation helpers of the estimators."""

from __future__ import annotations

import contextlib
import textwrap

import numpy as np

from ._history import History
from ._history import describe as describe_history

# Shared numpydoc parameter block: written once, formatted into each class docstring.
_SHARED_PARAMS = """\
cell : {"lstm", "gru", "rnn"}, default="lstm"
        Recurrent cell: Keras ``LSTM``, ``GRU`` or ``SimpleRNN``.
    units : int or tuple of int, default=32
        Units of the recurrent layer; a tuple stacks one layer per entry.
    bidirectional : bool, default=False
        Wrap each recurrent layer in ``Bidirectional`` (read the sequence both ways).
    dropout : float in [0, 1), default=0.0
        Dropout on the inputs of each recurrent layer.
    recurrent_dropout : float in [0, 1), default=0.0
        Dropout on the recurrent state.
    activation : {"tanh", "relu", "leaky_relu"}, default="tanh"
        Activation of the recurrent cell. ReLU-family activations do not saturate, so
        gradients through time shrink less (pair them with ``recurrent_initializer=
        "identity"`` and clipping).
    layer_norm : bool, default=False
        Layer-normalised cells (Ba et al. 2016): keeps each step's pre-activations at a
        stable scale, steadying gradients through long sequences.
    recurrent_initializer : {"orthogonal", "identity"}, default="orthogonal"
        Orthogonal recurrent weights preserve the state's norm at initialisation;
        ``"identity"`` (IRNN, Le et al. 2015, with ReLU) copies the state forward so
        early gradients neither vanish nor explode.
    unit_forget_bias : bool, default=True
        LSTM: start the forget gate's bias at 1 so the cell remembers by default,
        which counters vanishing gradients early in training.
    pooling : {"last", "mean", "attention"}, default="last"
        How a many-to-one model summarises the steps: the last real step, the mean over
        real steps, or learned attention weights over real steps. Ignored with
        ``return_sequences=True``.
    conv_filters : "auto", tuple of int or None, default="auto"
        A convolutional front-end, the LSTM-FCN family (Karim et al. 2017): one block
        per entry, each ``Conv1D`` with that many filters ("same" padding) → batch
        normalisation → ReLU, e.g. ``(128, 256, 128)``. Mask-aware: padded steps
        never change a prediction. None: no front-end. ``"auto"``: in
        ``RNNClassifier``, LSTM-FCN's ``(128, 256, 128)`` for numeric sequences with
        one label each (time-series classification, where it was measured: see
        docs/training.md); none for token input, with ``return_sequences=True`` (a
        "same" convolution reads the steps after each target's step) or with
        ``truncate_steps``; none in ``RNNRegressor``.
    conv_kernel_sizes : int or tuple of int, default=(8, 5, 3)
        Kernel size of each convolutional block (one int: every block).
    conv_mode : {"parallel", "before"}, default="parallel"
        ``"parallel"``: the convolutions read the input beside the recurrent layers,
        their features averaged over real steps (per step with
        ``return_sequences=True``) and concatenated with the recurrent summary before
        the output layer, as LSTM-FCN. ``"before"``: the recurrent layers read the
        convolutional features.
    return_sequences : bool, default=False
        One target per step (tagging, per-step regression) instead of one per sequence.
        Targets are then a list of per-sequence arrays and predictions come back as a
        list, each at its sequence's own length.
    embedding_dim : int, default=32
        Size of the learned token embedding (token input only).
    min_token_frequency : int, default=1
        Tokens seen fewer times in ``fit`` join the out-of-vocabulary id, whose
        embedding is then trained on them: what unseen tokens meet at predict time
        (token input only).
    input_type : {"auto", "numeric", "tokens"}, default="auto"
        How to read ``X``: ``"auto"`` reads sequences of strings as tokens and the rest
        as numbers; integer token ids need ``"tokens"``.
    scaling : {"feature", "sequence", None}, default="feature"
        Standardisation of numeric input, inside the estimator: ``"feature"``
        subtracts each feature's mean and divides by its standard deviation, both
        taken over every step of the training sequences (``scaling_mean_``,
        ``scaling_scale_``) and applied again at predict; ``"sequence"`` z-normalises
        every sequence over its own steps, feature by feature (the convention of
        time-series classification, where a series' level and amplitude are
        nuisance); None leaves the values as they are. Padding stays exact zeros.
        Token input is never scaled.
    optimizer : str or keras.optimizers.Optimizer, default="adam"
        A Keras optimizer name or instance (copied, never modified).
    learning_rate : float or keras.optimizers.schedules.LearningRateSchedule, default=None
        Learning rate; None keeps the optimizer's own (0.001 for Adam). A schedule
        (``ExponentialDecay``, ``CosineDecay``, ...) sets the rate of every update
        from the optimizer's update count, which carries on over ``warm_start`` and
        ``partial_fit``; it is copied, never modified.
    lr_schedule : {"plateau", "constant"}, default="plateau"
        ``"plateau"``: halve the learning rate whenever the monitored loss (see
        ``n_iter_no_change``) has not improved by ``tol`` for ``n_iter_no_change // 2``
        epochs, down to a thousandth of its starting value (Keras'
        ``ReduceLROnPlateau``). ``"constant"``: keep it. The rate of every epoch is
        in ``history_["learning_rate"]``. A Keras ``LearningRateSchedule`` (as
        ``learning_rate`` or in an optimizer instance) keeps its own schedule.
    epochs : int, default=200
        The most passes over the training data. ``fit`` stops earlier when the
        monitored loss has converged (see ``n_iter_no_change``) and issues a
        ``ConvergenceWarning`` when the budget runs out first; ``partial_fit`` always
        runs one epoch.
    batch_size : "auto" or int, default="auto"
        Sequences per batch. Batches group sequences of similar length and are padded
        only to their own longest sequence. ``"auto"``: a tenth of the training
        sequences, at least 8 and at most 32 (small data sets get enough updates an
        epoch to converge within the budget; FCN's rule, Wang et al. 2017, with
        bounds); 32 at predict time.
    truncate_steps : int, default=None
        Truncated backpropagation through time: cut each batch into chunks of this
        many steps, carry the recurrent state from chunk to chunk with the gradient
        stopped at the edge, and (per-step targets) update the weights after every
        chunk. With one target per sequence the earlier chunks only carry the state
        and the loss backpropagates through each sequence's last ``truncate_steps``
        steps. Memory then stays flat however long the sequences are. None trains
        with full BPTT. Needs ``bidirectional=False`` and, for one target per
        sequence, ``pooling="last"``.
    clipnorm : float, default=None
        Clip each gradient tensor to this norm.
    clipvalue : float, default=None
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    global_clipnorm : float, default=None
        Rescale all gradients together so their joint norm is at most this: the
        usual remedy for exploding gradients. With several clipping options, they
        apply in the order clipvalue, clipnorm, global_clipnorm.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (or validate on the ``X_val``,
        ``y_val`` passed to ``fit``) and monitor the validation loss instead of the
        training loss; the weights of the best validation epoch are restored at the end.
    validation_fraction : float in (0, 1), default=0.1
        Share of the training data held out for early stopping when ``fit`` gets no
        ``X_val``.
    n_iter_no_change : "auto" or int, default="auto"
        ``fit`` stops when the monitored loss (the validation loss with
        ``early_stopping=True``, else the training loss) has not improved by ``tol``
        for this many epochs, as scikit-learn's ``MLPClassifier`` does. ``"auto"``: 10
        epochs and at least 200 updates (``ceil(200 / batches per epoch)`` epochs on
        small data sets, whose epochs are a few noisy updates each).
    tol : float, default=1e-4
        Minimum decrease of the monitored loss that counts as an improvement.
    warm_start : bool, default=False
        Continue training the fitted model on the next ``fit`` instead of starting over.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the validation split. The
        same value gives identical predictions on the same machine.
    verbose : int, default=0
        0: silent. 1: a live progress bar per epoch (Keras' ``Progbar``: batches,
        ETA, running loss; validation loss and score at the end), and a progress bar
        over the batches of ``predict``. 2: one line per epoch (loss, validation loss
        and score, time).
    strategy : None, "auto", "mirrored", "multi_worker", or an instance, default=None
        Train on several devices or machines (see the scaling-out guide): a
        ``tf.distribute`` strategy on TensorFlow (gradients are summed over the
        replicas *before* clipping), a ``keras.distribution.DataParallel`` on JAX.
        ``"multi_worker"`` reads its cluster from ``TF_CONFIG`` and needs an integer
        ``random_state`` so every worker forms the same batches. Prediction needs no
        strategy, and a pickled estimator keeps only a string strategy.
    callbacks : list of keras.callbacks.Callback, default=None
        Keras callbacks, called at Keras' hook points of skrnn's loop (training, epoch
        and batch begin and end) with Keras' ``logs`` (``loss``, ``val_loss``, the
        validation score as ``val_accuracy`` / ``val_r2``, ``learning_rate``);
        ``callback.model`` is the network being trained, its ``optimizer`` the one
        training it, and ``model.stop_training`` ends the fit: ``EarlyStopping``,
        ``ReduceLROnPlateau``, ``LearningRateScheduler``, ``ModelCheckpoint``,
        ``CSVLogger``, ``TerminateOnNaN``, ``TensorBoard`` and your own work.
        ``BackupAndRestore(backup_dir)`` backs the fit up after every epoch: a fit
        that failed or was killed, started again with the same settings and data,
        resumes after its last complete epoch and ends as if never stopped
        (``history_["resumed"]`` records it). Pass ``lr_schedule="constant"`` when a
        callback sets the learning rate."""

_FITTED_ATTRS = """\
model_ : keras.Model
        The trained network (inputs ``[x, mask]``).
    n_features_in_ : int
        For 2-D tabular input (each row one univariate series): the number of columns,
        as in scikit-learn. For 3-D arrays and lists of sequences: features per step.
    feature_names_in_ : ndarray of str
        Column names, when ``X`` was a DataFrame or came from
        :func:`skrnn.data.from_long_format`.
    vocabulary_ : skrnn.data.Vocabulary or None
        The token vocabulary learned in ``fit`` (token input only).
    scaling_mean_, scaling_scale_ : ndarray of shape (n_step_features,)
        With ``scaling="feature"`` and numeric input: the per-feature statistics of
        the training steps that standardise every input.
    history_ : skrnn.History (a dict of lists)
HISTORY_DESCRIPTION
    n_iter_ : int
        Epochs run in total.
    best_epoch_ : int or None
        The epoch whose weights were restored by early stopping."""
_FITTED_ATTRS = _FITTED_ATTRS.replace("HISTORY_DESCRIPTION", textwrap.fill(
    describe_history(), width=88, initial_indent=" " * 8, subsequent_indent=" " * 8))

#: ``n_iter_no_change="auto"``: this many epochs, and at least this many updates.
AUTO_PATIENCE_EPOCHS, AUTO_PATIENCE_UPDATES = 10, 200


def resolve_patience(value, n_train: int, batch_size: int) -> int:
    """``n_iter_no_change`` as an int for ``n_train`` sequences in batches of
    ``batch_size``."""
    if isinstance(value, str):
        batches = max(1, -(-n_train // batch_size))
        return max(AUTO_PATIENCE_EPOCHS, -(-AUTO_PATIENCE_UPDATES // batches))
    return int(value)


def resolve_batch_size(value, n_train: int | None = None) -> int:
    """``batch_size`` as an int: ``"auto"`` is ``n_train // 10`` within [8, 32] (32
    where no training set size applies, e.g. predict)."""
    if isinstance(value, str):
        return 32 if n_train is None else int(min(32, max(8, n_train // 10)))
    return int(value)


def fresh_rng(random_state) -> np.random.RandomState:
    """A new random stream seeded from ``random_state`` (int, RandomState or None)."""
    if isinstance(random_state, np.random.RandomState):
        seed = random_state.randint(0, 2**31 - 1)
    elif random_state is None:
        seed = np.random.randint(0, 2**31 - 1)
    else:
        seed = int(random_state)
    return np.random.RandomState(seed)


def _check_sample_weight(sample_weight, n):
    if sample_weight is None:
        return np.ones(n, dtype=np.float64)
    sw = np.asarray(sample_weight, dtype=np.float64)
    if sw.ndim != 1 or sw.shape[0] != n:
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected ({n},): one "
                         "weight per sequence.")
    if not np.isfinite(sw).all():
        raise ValueError("sample_weight contains NaN or infinity in sample "
                         f"{int(np.argmax(~np.isfinite(sw)))}.")
    if (sw < 0).any():
        raise ValueError(f"sample_weight is negative in sample {int(np.argmax(sw < 0))}; "
                         "weights must be >= 0.")
    if not sw.any():
        raise ValueError("Sample weights must contain at least one non-zero weight; "
                         "all sample_weight values are zero.")
    return sw.copy()


def _setting(value):
    """A parameter as a comparable value: Keras objects (an optimizer, a learning-rate
    schedule) by class and config, so an unpickled or cloned copy compares equal."""
    if hasattr(value, "get_config"):
        return type(value).__name__, repr(value.get_config())
    return value


def step_settings(est) -> tuple:
    """What a compiled training step is made from: when any of it changes (under
    ``warm_start``) the step is rebuilt and the optimizer starts afresh."""
    return (_setting(est.optimizer), _setting(est.learning_rate), est.clipnorm,
            est.clipvalue, est.global_clipnorm)


#: Parameters that do not change what a fit computes, or that may change when a fit
#: killed part-way is started again to resume from its backup.
_NOT_IN_BACKUP_KEY = ("epochs", "verbose", "callbacks", "strategy")


def fit_settings(est) -> str:
    """The parameters that identify a fit's backups (with its data), as a string equal
    in every process: Keras objects by class and config, a ``RandomState`` instance by
    its type (its state is the backup's own)."""
    settings = []
    for name, value in sorted(est.get_params(deep=False).items()):
        if name not in _NOT_IN_BACKUP_KEY:
            value = _setting(value)
            settings.append((name, type(value).__name__
                             if isinstance(value, np.random.RandomState) else value))
    return f"{type(est).__name__}{settings!r}"


def clipping_of(est) -> dict:
    """The clipping keywords of :func:`skrnn.training.clip_gradients`."""
    return dict(clipnorm=est.clipnorm, clipvalue=est.clipvalue,
                global_clipnorm=est.global_clipnorm)


def picklable_state(estimator, rebuilt_on_use=()) -> dict:
    """An estimator's ``__dict__`` ready to pickle.

    The compiled step (and ``rebuilt_on_use``) and the resolved strategy (devices of this
    process; prediction needs none) are dropped, the step's optimizer state kept as
    arrays (``_optimizer_state``: a warm start after unpickling continues Adam's moments
    and the learning rate reached, see :func:`fitted_step`); a strategy object
    given as a parameter is replaced by None (strategy objects do not pickle, strings
    do); the Keras model is pickled on its own (an in-memory ``.keras`` archive).
    """
    import pickle

    from ._saving import saved_strategy

    state = estimator.__dict__.copy()
    step = state.pop("_step", None)
    if step is not None:
        state["_optimizer_state"] = step.optimizer_values()
    for key in ("_strategy", *rebuilt_on_use):
        state.pop(key, None)
    if "strategy" in state:
        state["strategy"] = saved_strategy(state["strategy"])
    if "model_" in state:
        state["model_"] = pickle.dumps(state["model_"])
    return state


def fitted_step(est, settings, task, per_step, **kwargs):
    """The compiled training step of ``est.model_``, recorded as made under ``settings``
    (what :func:`step_settings` returned, plus anything else the step depends on).

    After unpickling, the step takes the optimizer state pickled with the estimator when
    it was pickled under the same settings; otherwise that state is dropped."""
    from . import training

    step = training.make_step(est.model_, training.get_optimizer(est.optimizer,
                                                                 est.learning_rate),
                              task, per_step, clipping_of(est),
                              strategy=getattr(est, "_strategy", None), **kwargs)
    saved = est.__dict__.pop("_optimizer_state", None)
    if saved is not None and getattr(est, "_step_params", None) == settings:
        step.load_optimizer_values(saved)
    est._step_params = settings
    return step


def forget_step(est) -> None:
    """A new network: its step, and its optimizer's state, start afresh."""
    est._step = None
    est.__dict__.pop("_optimizer_state", None)


@contextlib.contextmanager
def errors_named(what: str):
    """Prefix a ValueError / TypeError raised inside with ``In {what}:`` (fit's
    validation data is read by the code that reads X and y, whose messages say X, y)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"In {what}: {exc}") from exc


def unpickled_state(state: dict) -> dict:
    """The counterpart of :func:`picklable_state` for what every estimator shares: a
    history pickled as a plain dict by an earlier skrnn becomes a :class:`History`."""
    if type(state.get("history_")) is dict:
        state["history_"] = History(state["history_"])
    return state


def check_same_spec(built, now) -> None:
    """``warm_start`` / ``partial_fit`` continue the network ``built``: refuse when the
    parameters now define another one (``now``, a spec of the same dataclass), naming
    every field that changed. The seed is not compared; neither are the settings of a
    convolutional front-end that neither has."""
    import dataclasses

    ignore = {"seed"}
    if getattr(now, "input_kind", "tokens") != "tokens":
        ignore.add("embedding_dim")  # no embedding in front of numeric input
    if not getattr(built, "conv_filters", None) and not getattr(now, "conv_filters", None):
        ignore |= {"conv_mode", "conv_kernel_sizes"}
    changed = [f.name for f in dataclasses.fields(now) if f.name not in ignore
               and getattr(built, f.name, f.default) != getattr(now, f.name)]
    if changed:
        raise ValueError(
            f"warm_start / partial_fit continue the fitted network, but {changed} changed "
            "since it was built. Fit from scratch (warm_start=False) to use the new "
            "architecture.")
