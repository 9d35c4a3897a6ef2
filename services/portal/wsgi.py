"""gunicorn -c python:shared.http.server services.portal.wsgi:app"""
from .app import create

app = create()
