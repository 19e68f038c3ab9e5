"""check: compare answers with the truth, and find the likely mistakes."""
