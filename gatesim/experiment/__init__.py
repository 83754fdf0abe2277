"""Experiments: replications, common random numbers, sweeps and executors."""
