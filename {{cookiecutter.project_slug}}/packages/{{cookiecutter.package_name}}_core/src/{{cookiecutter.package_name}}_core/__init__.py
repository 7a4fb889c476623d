"""What every service of {{ cookiecutter.project_name }} shares, in one place.

* :mod:`.settings`: the settings base (logging, metrics, tracing, error reports) and the loader
  that stops a process with a readable list of bad variables;
* :mod:`.logs`: one logging configuration for the process: JSON lines or readable text, with the
  service, the request and job ids and the trace ids on every line, and secrets masked;
* :mod:`.metrics`: the Prometheus metrics and their HTTP server (a port of its own);
* :mod:`.tracing`: OpenTelemetry traces, on when the standard ``OTEL_EXPORTER_OTLP_*`` variables
  are set{% if cookiecutter.with_worker %};
* :mod:`.jobs`: the contract between the api and the worker: job names, payloads, the serializer
  and the request id and trace context each job carries{% endif %}.
"""
