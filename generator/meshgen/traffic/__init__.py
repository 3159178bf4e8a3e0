"""Canary traffic: weights in environment files, and the git work around changing them."""
