"""What the model layer builds, by name, without importing Keras.

The estimators' parameter constraints (``skrnn._constraints``) read their allowed
values from here, so a cell, pooling or attention the model layer cannot build is
refused at ``fit`` before anything is built, and adding one here is the one place that
changes.
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
