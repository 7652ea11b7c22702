"""The test suite. A package, so its fixture modules import as ``tests.fixtures.*``."""
