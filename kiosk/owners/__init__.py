"""Device owners: one small Qt-free object per device, turning driver events into screen events and health.

An owner is built by the composition root (`kiosk.app`) with a real driver or a simulator picked
from config; it calls back on the driver's thread, so the Qt layer hops those calls to the GUI
thread. Its failures become entries of the node's retained device health (`HealthBoard`).
"""
