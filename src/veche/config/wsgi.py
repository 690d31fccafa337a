"""WSGI entry point for gunicorn: ``veche.config.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "veche.config.settings")
# The database and its write-ahead log are created readable by the server's account only.
os.umask(0o077)

application = get_wsgi_application()
