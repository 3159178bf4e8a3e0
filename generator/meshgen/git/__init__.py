"""Git, through GitPython: the only package that imports it.

`plumbing` opens repositories and turns git's failures into GitErrors; `commit` makes
meshgen's commits (the first commit of a new repository, and one-file canary steps);
`refs` reads other commits (the base of a change, files and messages at a commit).

meshgen never forces, never rewrites history and commits only the paths it names.
"""
