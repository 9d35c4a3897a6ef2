"""gunicorn services.claims.wsgi:app"""
from .api import create

app = create()
