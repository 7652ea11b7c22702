"""The museum visit booking core: venues, slots, bookings and the rules that guard them.

This package never imports ``courses``; the course scheduler builds on top of it.
"""
