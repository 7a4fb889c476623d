"""Process entry point for uvicorn: the module-level ``app``.

Start the service with:

    uvicorn {{ cookiecutter.package_name }}_api.main:app

Importing this module reads the configuration (and exits with a readable message when it is
invalid) and sets up logging; it opens no connections, the application's lifespan does that.
Tests build their own application with ``app.create_app`` instead.
"""

import logging

from {{ cookiecutter.package_name }}_api.app import create_app
from {{ cookiecutter.package_name }}_api.settings import load_settings

settings = load_settings()
# uvicorn configures its own loggers only; this gives the application's loggers a handler.
logging.basicConfig(
    level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
)
app = create_app(settings)
