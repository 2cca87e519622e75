"""skrnn: scikit-learn estimators for sequence data on Keras 3 recurrent networks."""

from .classifier import RNNClassifier
from .regressor import RNNRegressor

__version__ = "0.1.0"

__all__ = ["RNNClassifier", "RNNRegressor", "__version__"]
