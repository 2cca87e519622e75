"""Sequences in, batches out: validation, conversion, vocabularies, batching.

Nothing in this package imports Keras.
"""

from ._batching import SupervisedSet, bucket_batches, pad_batch, split_validation
from ._covariates import (
    CovariateScaling,
    WithCovariates,
    append_static,
    fitted_covariates,
    split_covariates,
)
from ._long import from_long_format
from ._scaling import SCALINGS, apply_scaling, fit_scaling, standardisation
from ._seq2seq import Seq2SeqSet, future_rows, read_pairs, read_pairs_side
from ._sequences import (
    INPUT_TYPES,
    SequenceList,
    Sequences,
    check_finite_rows,
    check_table,
    from_tabular,
    is_tabular,
    real_values,
    to_sequences,
)
from ._targets import check_no_none, check_step_targets
from ._vocabulary import OOV_ID, PAD_ID, Vocabulary

__all__ = [
    "INPUT_TYPES",
    "SCALINGS",
    "OOV_ID",
    "CovariateScaling",
    "WithCovariates",
    "append_static",
    "fitted_covariates",
    "split_covariates",
    "PAD_ID",
    "Seq2SeqSet",
    "SequenceList",
    "Sequences",
    "SupervisedSet",
    "Vocabulary",
    "apply_scaling",
    "bucket_batches",
    "check_finite_rows",
    "check_table",
    "check_no_none",
    "check_step_targets",
    "fit_scaling",
    "from_long_format",
    "from_tabular",
    "future_rows",
    "is_tabular",
    "pad_batch",
    "read_pairs",
    "read_pairs_side",
    "real_values",
    "split_validation",
    "standardisation",
    "to_sequences",
]
