"""pytest settings for the whole checkout (the unit tests' own live in tests/conftest.py).

nbval waits a fixed 5 s for each output message after a cell's reply, and offers no option
for it (computationalmodelling/nbval#136, #231). On a loaded 2-core machine a cell that has
finished can still take longer to deliver its last messages (06's training cell, with twelve
progress bars, failed a CI run so), so notebook cells get a minute.
"""

NBVAL_OUTPUT_TIMEOUT_S = 60


def pytest_collection_modifyitems(items):
    for item in items:
        if hasattr(item, "output_timeout"):  # nbval's IPyNbCell
            item.output_timeout = NBVAL_OUTPUT_TIMEOUT_S
