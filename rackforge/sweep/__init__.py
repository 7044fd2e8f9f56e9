"""Many scenarios: sweeps over a space of overrides and Monte Carlo risk, on a local process pool
or Ray."""
