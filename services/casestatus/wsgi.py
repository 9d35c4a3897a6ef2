"""gunicorn services.casestatus.wsgi:app"""
from .api import create

app = create()
