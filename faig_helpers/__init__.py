"""FAIG Lab helpers: find, test, map and modulate the filters a blind SR network uses for one
degradation (FAIG, NeurIPS 2021). One module per concept; see README.md."""
