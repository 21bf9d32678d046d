"""Small shared utilities: atomic files, config resolution, logging, parallel jobs."""
