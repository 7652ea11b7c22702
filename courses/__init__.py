"""The red-education course scheduler, built on top of :mod:`booking`."""
