"""Git, through GitPython and the git command: the only package that runs git.

`plumbing` runs git with a deadline and turns its failures into GitErrors; `refs` reads
other commits (the base of a change, files and messages at a commit); `preflight`
checks a canary step may commit (with `state`: no rebase or merge under way) and
`commit` makes the commit as one transaction, under the repository `lock`, with
`signals` deciding when an interruption rolls back; `identity` says who the author is;
`remote` pushes a step's branch.

meshgen never forces, never rewrites history and commits only the paths it names.
"""
