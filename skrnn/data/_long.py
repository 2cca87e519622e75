"""Long-format (one row per time step) pandas frames to sequences."""

from __future__ import annotations

import numpy as np

from ._sequences import SequenceList


def from_long_format(frame, id_column, time_column, feature_columns=None, *,
                     static_columns=None, future_frame=None, future_columns=None):
    """Turn a long-format DataFrame into a list of ``(T_i, F)`` sequences (and their
    covariates).

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
        Defaults to every other column (but the static ones).
    static_columns : list of str, optional
        Columns constant within each sequence (a store's size): its static covariates.
    future_frame : pandas.DataFrame, optional
        The forecast horizon's rows, in the same long format (``id_column``,
        ``time_column``): values known in advance, as neuralforecast's ``futr_df``.
        Every sequence needs its rows.
    future_columns : list of str, optional
        The columns of ``future_frame`` to read (default: all but the id and time).

    Returns
    -------
    SequenceList, or :class:`~skrnn.data.WithCovariates` with ``static`` (``(n, S)``, in
    the sequences' order) and ``future`` (per sequence ``(H_i, C)``) when covariates
    are asked for

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
    static_columns = _columns(frame, static_columns, "static_columns")
    if feature_columns is None:
        feature_columns = [c for c in frame.columns
                           if c not in (id_column, time_column, *static_columns)]
    else:
        feature_columns = _columns(frame, feature_columns, "feature_columns")
    if not feature_columns:
        raise ValueError("The frame has no feature columns besides the id and time.")
    if len(frame) == 0:
        raise ValueError("The frame is empty: no rows, so no sequences.")
    ids = list(dict.fromkeys(frame[id_column].tolist()))
    groups = _by_id(frame, id_column, time_column)
    sequences = _rows_per_id(
        groups, ids, time_column, feature_columns,
        repeated="Sequence id={key!r} has repeated values in {time!r}; each time step "
                 "must appear once.",
        non_numeric="Sequence id={key!r} has non-numeric feature values: {exc}")
    result = SequenceList(sequences, ids=np.asarray(ids, dtype=object),
                          feature_names=np.asarray(feature_columns, dtype=object))
    if not static_columns and future_frame is None:
        if future_columns is not None:
            raise ValueError("future_columns are read from future_frame (the horizon's "
                             "rows); pass it too.")
        return result
    static = None
    if static_columns:
        rows = []
        for key in ids:
            g = groups.get_group(key)[static_columns]
            varying = [c for c in static_columns if g[c].nunique(dropna=False) > 1]
            if varying:
                raise ValueError(f"static_columns {varying} vary within sequence "
                                 f"id={key!r}; a static covariate has one value per "
                                 "sequence.")
            rows.append(g.iloc[0])
        static = _static_frame(rows, static_columns)
    future = None
    if future_frame is not None:
        future = _future(future_frame, id_column, time_column, future_columns, ids)
    from ._covariates import WithCovariates

    return WithCovariates(result, static=static, future=future)


def _columns(frame, columns, what: str) -> list:
    columns = [] if columns is None else list(columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} {missing} are not columns of the frame.")
    return columns


def _static_frame(rows, columns):
    """The static rows as a DataFrame (its column names travel with the covariates)."""
    import pandas as pd

    return pd.DataFrame([list(r) for r in rows], columns=columns)


def _future(frame, id_column, time_column, columns, ids) -> list:
    """Per sequence id, its horizon's rows of ``columns`` in time order."""
    if not (hasattr(frame, "columns") and hasattr(frame, "groupby")):
        raise TypeError(f"future_frame must be a pandas DataFrame, got "
                        f"{type(frame).__name__}.")
    for col in (id_column, time_column):
        if col not in frame.columns:
            raise ValueError(f"future_frame has no column {col!r}; columns are "
                             f"{list(frame.columns)}.")
    if columns is None:
        columns = [c for c in frame.columns if c not in (id_column, time_column)]
    columns = _columns(frame, columns, "future_columns")
    if not columns:
        raise ValueError("future_frame has no columns besides the id and time.")
    groups = _by_id(frame, id_column, time_column)
    missing = [key for key in ids if key not in groups.groups]
    if missing:
        raise ValueError(f"future_frame has no rows for sequence id={missing[0]!r}; every "
                         "sequence needs the covariates of its horizon.")
    return _rows_per_id(groups, ids, time_column, columns,
                        repeated="future_frame has repeated {time!r} values for "
                                 "id={key!r}.",
                        non_numeric="future_frame id={key!r} has non-numeric values: {exc}")


def _by_id(frame, id_column, time_column):
    """The frame's rows grouped by id, each group in time order."""
    return frame.sort_values([time_column], kind="stable").groupby(id_column, sort=False)


def _rows_per_id(groups, ids, time_column, columns, *, repeated, non_numeric) -> list:
    """Per id (in ``ids``' order) its rows of ``columns`` as a float64 array; the
    messages name the id (``{key}``), the time column (``{time}``), the error (``{exc}``)."""
    out = []
    for key in ids:
        g = groups.get_group(key)
        if g[time_column].duplicated().any():
            raise ValueError(repeated.format(key=key, time=time_column))
        try:
            out.append(g[columns].to_numpy(dtype=np.float64))
        except (TypeError, ValueError) as exc:
            raise TypeError(non_numeric.format(key=key, exc=exc)) from None
    return out
