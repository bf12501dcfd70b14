"""Hyperparameter tuning logic shared by the HyperDriveStep API and the runtime shim.

Pure functions over plain JSON data (stdlib only): parameter expressions and sampling
(``space``), early termination policies (``policies``) and the ranking of trials
(``ranking``). The user-facing classes live in ``kubeline.dsl.hyperdrive``; the shim's
phases in ``kubeline.runtime.hyperdrive``. Both import this package, never each other.
"""
