"""Guard rails on canary steps (MG7xx), measured against the base branch.

A change is what the working tree holds compared with the merge base of HEAD and the base
branch (`MESHGEN_BASE_REF`, else `origin/<baseBranch>`, else `<baseBranch>`): on a pull
request, everything the pull request changes; on the base branch, what is not yet
committed.
"""
