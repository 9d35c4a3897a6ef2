"""Load benchmarks: `make bench` (`python -m bench`). Every speed figure is a ratio
against a raw baseline measured in the same run, because this machine is shared and
noisy; see README.md, "Performance"."""
