"""Operators that DAG authors use directly."""
