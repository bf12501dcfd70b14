"""ParallelRunStep at run time: plan mini-batches, run them in workers, gather the output."""
