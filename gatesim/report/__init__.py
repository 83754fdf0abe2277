"""Reports: console tables, plots and HTML pages, built from result tables only."""
