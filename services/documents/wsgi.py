"""gunicorn services.documents.wsgi:app"""
from .api import create

app = create()
