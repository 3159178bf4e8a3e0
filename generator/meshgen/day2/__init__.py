"""Day-2 operations on a generated repository: environments, apps, platform pins, and
template updates.

Each operation plans a `Changeset` (files to write or delete) from the repository and
the template it was written with, then `changes.run` validates the result in a scratch
copy before anything in the repository is touched.
"""
