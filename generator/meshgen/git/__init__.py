"""Git, through GitPython and the git command: the only package that runs git.

`plumbing` runs git with a deadline and turns its failures into GitErrors; `refs` reads
other commits (the base of a change, files and messages at a commit). Every command that
changes a repository (a canary step, a day-2 command) runs in the frame of
`transaction`, under the repository `lock`: `preflight` checks it may commit (with
`state`: no rebase or merge under way), `commit` makes the commit of one file or many as
one transaction, `worktree` writes files without a commit all at once, and `signals`
decides when an interruption rolls back; `identity` says who the author is; `remote`
pushes a step's branch.

meshgen never forces, never rewrites history and commits only the paths it names.
"""
