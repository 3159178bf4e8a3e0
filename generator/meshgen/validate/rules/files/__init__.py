"""meshgen's own files: the config (MG0xx) and the environment files and their weights (MG1xx)."""
