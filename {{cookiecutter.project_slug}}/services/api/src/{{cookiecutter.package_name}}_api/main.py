"""Process entry point for uvicorn: the module-level ``app``.

Start the service with ``python -m {{ cookiecutter.package_name }}_api`` (what the image runs), or, for development,

    uvicorn {{ cookiecutter.package_name }}_api.main:app --reload

Importing this module reads the configuration (and exits with a readable message when it is
invalid) and sets up logging, error reports and tracing; it opens no connections, the
application's lifespan does that. Tests build their own application with ``app.create_app``.
"""

from {{ cookiecutter.package_name }}_api.app import create_app
from {{ cookiecutter.package_name }}_api.settings import SERVICE, load_settings
from {{ cookiecutter.package_name }}_core.observability import setup_observability

settings = load_settings()
app = create_app(settings, tracer_provider=setup_observability(SERVICE, settings))
