"""Command-line entry point: ``python run_sim.py --help``."""

from gatesim.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
