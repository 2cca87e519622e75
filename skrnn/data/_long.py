"""Long-format (one row per time step) pandas frames to sequences."""

from __future__ import annotations

import numpy as np

from ._sequences import SequenceList


def from_long_format(frame, id_column, time_column, feature_columns=None) -> SequenceList:
    """Turn a long-format DataFrame into a list of ``(T_i, F)`` sequences.

    Each row of ``frame`` is one time step of one sequence: ``id_column`` says which
    sequence, ``time_column`` orders the steps. Sequences come back in order of first
    appearance of their id; the result carries ``.ids`` (use it to align targets, e.g.
    ``y.loc[X.ids]``) and ``.feature_names`` (recorded by estimators as
    ``feature_names_in_``).

    Parameters
    ----------
    frame : pandas.DataFrame
    id_column, time_column : str
        Column names.
    feature_columns : list of str, optional
        Defaults to every other column.

    Returns
    -------
    SequenceList

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"id": [1, 1, 2], "t": [0, 1, 0], "x": [0.5, 0.7, 0.1]})
    >>> X = from_long_format(df, "id", "t")
    >>> [s.shape for s in X], list(X.ids)
    ([(2, 1), (1, 1)], [1, 2])
    """
    if not (hasattr(frame, "columns") and hasattr(frame, "groupby")):
        raise TypeError(f"frame must be a pandas DataFrame, got {type(frame).__name__}.")
    for col, role in ((id_column, "id_column"), (time_column, "time_column")):
        if col not in frame.columns:
            raise ValueError(f"{role}={col!r} is not a column of the frame; columns are "
                             f"{list(frame.columns)}.")
    if feature_columns is None:
        feature_columns = [c for c in frame.columns if c not in (id_column, time_column)]
    else:
        feature_columns = list(feature_columns)
        missing = [c for c in feature_columns if c not in frame.columns]
        if missing:
            raise ValueError(f"feature_columns {missing} are not columns of the frame.")
    if not feature_columns:
        raise ValueError("The frame has no feature columns besides the id and time.")
    if len(frame) == 0:
        raise ValueError("The frame is empty: no rows, so no sequences.")
    ordered = frame.sort_values([time_column], kind="stable")
    ids = list(dict.fromkeys(frame[id_column].tolist()))
    groups = ordered.groupby(id_column, sort=False)
    sequences = []
    for key in ids:
        g = groups.get_group(key)
        if g[time_column].duplicated().any():
            raise ValueError(f"Sequence id={key!r} has repeated values in "
                             f"{time_column!r}; each time step must appear once.")
        try:
            sequences.append(g[feature_columns].to_numpy(dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError(f"Sequence id={key!r} has non-numeric feature values: "
                            f"{exc}") from None
    return SequenceList(sequences, ids=np.asarray(ids, dtype=object),
                        feature_names=np.asarray(feature_columns, dtype=object))
