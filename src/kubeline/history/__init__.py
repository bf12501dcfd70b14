"""The run history: runs, steps and their status history, whichever backend ran them."""
