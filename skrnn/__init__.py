"""skrnn: scikit-learn estimators for sequence data on Keras 3 recurrent networks."""

from ._history import History
from ._show_versions import show_versions
from ._version import __version__
from .classifier import RNNClassifier
from .regressor import RNNRegressor
from .seq2seq import Seq2SeqTransformer
from .serving._codec import SavingError
from .serving._saving import load

__all__ = ["History", "RNNClassifier", "RNNRegressor", "SavingError", "Seq2SeqTransformer",
           "__version__", "load", "show_versions"]
