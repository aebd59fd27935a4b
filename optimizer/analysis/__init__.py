"""What-if analysis: re-solves, sensitivity, break-even, sweeps, tornado, compare, diagnosis."""
