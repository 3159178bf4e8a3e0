"""Canary steps: plan an edit of one environment file, check it, write it, commit it.

Every step is planned in memory first (`weights.plan_*`, `versions.plan_*`, on an
`edit.Target`), checked against the weight rules and the guard rails (`rails`), and only
then written (atomically) and, when asked, committed on its own branch (`write`). A
refused step changes neither the file nor the repository.
"""
