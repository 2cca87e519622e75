"""What leaves a fitted estimator's process: ``save`` / ``skrnn.load`` (``_saving``, the
tagged JSON of ``_codec``), pickling (``_pickling``) and the SavedModel and ONNX serving
graphs (``_export``).

Importing this package imports nothing: its modules are imported by the estimators.
"""
