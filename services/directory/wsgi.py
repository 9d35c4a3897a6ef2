"""gunicorn services.directory.wsgi:app"""
from .api import create

app = create()
