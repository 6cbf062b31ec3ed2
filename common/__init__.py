"""Plain Python (the standard library only) that both ``core`` and ``widgets`` use: the one place
for small helpers the two layers share without importing each other (durations as text)."""
