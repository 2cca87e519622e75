"""What the toolkits' adapters share (``_adapters``); the adapters themselves are the
public modules ``skrnn.sktime`` and ``skrnn.aeon``.

Importing this package imports nothing.
"""
