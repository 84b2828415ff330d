"""Alembic revision files; the package makes setuptools ship them with the wheel."""
