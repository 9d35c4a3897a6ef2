"""gunicorn services.registration.wsgi:app"""
from .api import create

app = create()
