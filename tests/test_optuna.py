"""Optuna over skrnn estimators: OptunaSearchCV, and trials pruned per epoch (through
``partial_fit``, and through a Keras callback reading the validation loss)."""

import warnings

import numpy as np
import optuna
import pytest
from helpers import ragged
from optuna.distributions import FloatDistribution, IntDistribution
from optuna_integration import KerasPruningCallback, OptunaSearchCV

from skrnn import RNNClassifier, RNNRegressor

pytestmark = pytest.mark.usefixtures("quiet_convergence")
optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(autouse=True)
def quiet_experimental():
    with warnings.catch_warnings():  # OptunaSearchCV is marked experimental
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def test_optuna_search_cv_over_ragged_sequences():
    X, y = ragged(n=60, f=2, seed=4)
    search = OptunaSearchCV(
        RNNClassifier(conv_filters=None, epochs=10, random_state=0),
        {"units": IntDistribution(4, 16, log=True),
         "learning_rate": FloatDistribution(1e-3, 3e-2, log=True)},
        n_trials=3, cv=2, random_state=0)
    search.fit(X, y)
    assert len(search.trials_) == 3
    assert set(search.best_params_) == {"units", "learning_rate"}
    assert search.best_estimator_.units == search.best_params_["units"]
    assert search.score(X, y) > 0.7  # the refitted best estimator


def test_search_prunes_trials_per_epoch_through_partial_fit():
    X, y = ragged(n=60, f=2, seed=5)
    study = optuna.create_study(
        direction="maximize", sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    search = OptunaSearchCV(
        RNNClassifier(units=8, conv_filters=None, random_state=0),
        {"learning_rate": FloatDistribution(1e-6, 3e-2, log=True)},
        enable_pruning=True, max_iter=5, n_trials=5, cv=2, study=study, refit=False)
    search.fit(X, y)
    states = [t.state for t in study.trials]
    assert optuna.trial.TrialState.PRUNED in states, states
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    # one reported score per epoch (partial_fit call) of every trial run to the end
    assert all(sorted(t.intermediate_values) == list(range(5)) for t in complete)
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    assert all(len(t.intermediate_values) < 5 for t in pruned)


def test_keras_pruning_callback_stops_a_fit_on_its_validation_loss():
    X, y = ragged(n=60, f=1, seed=6)
    target = np.array([s[:, 0].mean() for s in X])
    seen = {}

    def objective(trial):
        reg = RNNRegressor(units=8, epochs=8, early_stopping=True, random_state=0,
                           learning_rate=trial.suggest_float("learning_rate", 1e-6, 1e-1,
                                                             log=True),
                           callbacks=[KerasPruningCallback(trial, monitor="val_loss")])
        reg.fit(X, target)
        seen[trial.number] = reg
        return reg.history_["val_loss"][-1]

    study = optuna.create_study(
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1))
    study.enqueue_trial({"learning_rate": 1e-2})
    study.enqueue_trial({"learning_rate": 2e-2})
    study.enqueue_trial({"learning_rate": 1e-6})  # learns nothing: pruned early
    study.optimize(objective, n_trials=3)
    pruned = study.trials[2]
    assert pruned.state == optuna.trial.TrialState.PRUNED
    assert 1 <= len(pruned.intermediate_values) < 8
    assert 2 not in seen  # the pruned fit raised: nothing half-trained was kept
