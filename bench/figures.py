"""What the benchmarks share for reporting their figures."""


def percentile(values, p):
    """The p-th percentile (nearest rank) of values; NaN when there are none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]
