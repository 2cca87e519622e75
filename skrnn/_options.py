"""Every option skrnn names, declared once, without importing Keras.

The estimators' parameter constraints (:mod:`skrnn.estimators._constraints`), the model builders
(:mod:`skrnn.models`), the training step (losses), the strategy resolver and the
parameter docs read their names from here, so a cell, pooling, attention, loss or
strategy the code cannot honour is refused at ``fit`` before anything is built, and
adding one starts here.
"""

#: Recurrent cells: skrnn name -> Keras layer.
CELLS = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
#: Activations of the recurrent cells.
ACTIVATIONS = ("tanh", "relu", "leaky_relu")
#: Initialisers of the recurrent kernel.
RECURRENT_INITIALIZERS = ("orthogonal", "identity")
#: How a many-to-one model summarises the steps.
POOLINGS = ("last", "mean", "attention")
#: Where the convolutional front-end sits.
CONV_MODES = ("parallel", "before")
#: Attention of a sequence-to-sequence decoder over the encoder's steps.
ATTENTIONS = (None, "additive", "dot")
#: Decoding of a sequence-to-sequence model (``models._decoding.decode_batch``).
DECODINGS = ("greedy", "beam")
#: Losses of numeric targets (``RNNRegressor``, numeric ``Seq2SeqTransformer``
#: targets), computed by :class:`skrnn.training._step.RegressionLoss`.
LOSSES = ("squared_error", "absolute_error", "huber", "quantile", "gaussian")
#: Distribution strategies by name (an object with ``scope()`` is taken as well).
STRATEGIES = ("auto", "mirrored", "multi_worker")
#: What the loop does with the learning rate (``lr_schedule``).
LR_SCHEDULES = ("plateau", "constant")
