"""The AML SDK's signatures at kubeline's doors: the checker (checker.py) and the SDK's
surface as data (data.py). Stdlib only, below every layer that applies it."""
