"""Plain-Python comparisons for the trusted side of grading (no torch: data only)."""

import math


def flat(value):
    if isinstance(value, (list, tuple)):
        return [x for item in value for x in flat(item)]
    return [value]


def shape(value):
    return [len(value)] + shape(value[0]) if isinstance(value, list) and value else []


def close(a, b, tol=1e-5):
    a, b = flat(a), flat(b)
    return len(a) == len(b) and all(
        isinstance(x, (int, float))
        and isinstance(y, (int, float))
        and math.isfinite(x)
        and abs(x - y) <= tol * (1 + abs(y))
        for x, y in zip(a, b)
    )


def finite(value):
    return all(isinstance(x, (int, float)) and math.isfinite(x) for x in flat(value))
