"""gunicorn services.complaints.wsgi:app"""
from .api import create

app = create()
