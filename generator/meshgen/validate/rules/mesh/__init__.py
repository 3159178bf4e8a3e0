"""Mesh analyzers across objects (MG4xx), in the spirit of `istioctl analyze`, offline.

Each rule looks at one World at a time (the objects one environment's cluster gets), so
a reference is only satisfied by an object that cluster would really hold.
"""
