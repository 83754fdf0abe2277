"""Command-line entry point: ``python run_sim.py --help``."""

from gatesim.cli import console_main

if __name__ == "__main__":
    console_main()
