"""Migrant registry: registration rules (validation), API schemas and reference data."""
