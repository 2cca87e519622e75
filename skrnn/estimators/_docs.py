"""The parameter and attribute documentation the estimators share: written once,
formatted into each class docstring."""

from __future__ import annotations

import textwrap

from .._history import describe as describe_history

# Shared numpydoc parameter block: written once, formatted into each class docstring.
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
        Only for 2-D tabular input (each row one univariate series): the number of
        columns, scikit-learn's meaning, which other tools rely on to build a probe
        table. Absent for 3-D arrays, lists of sequences and tokens.
    n_step_features_ : int or None
        Features per step the network reads (1 for a table; None for tokens).
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
