"""What validation reads: meshgen's own files, the static files, Helm's renders."""
