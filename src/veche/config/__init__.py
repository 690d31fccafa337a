"""Django configuration: settings, URLs, WSGI entry point."""
