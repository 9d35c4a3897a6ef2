"""gunicorn services.identity.wsgi:app"""
from .api import create

app = create()
