"""Speed measurements, kept out of the test suite. Run them all with `make bench`, or one with
`python -m benchmarks conditioning`. Each prints a table whose ratios are measured side by side
in the same run."""
