"""The machinery of the estimators (the public classes live in ``skrnn.classifier``,
``skrnn.regressor`` and ``skrnn.seq2seq``): the one fit skeleton (``_fitting``), the
recurrent estimators' shared base (``_base``), reading X (``_inputs``), the regression
losses' parameters and outputs (``_losses``), the training step of an estimator
(``_steps``), the seq2seq reading and decoding (``_seq2seq_data``), fit as a transaction
(``_transaction``), the parameter tables (``_constraints``) and shared docs (``_docs``).

Importing this package imports nothing: its modules are imported by the estimators.
"""
