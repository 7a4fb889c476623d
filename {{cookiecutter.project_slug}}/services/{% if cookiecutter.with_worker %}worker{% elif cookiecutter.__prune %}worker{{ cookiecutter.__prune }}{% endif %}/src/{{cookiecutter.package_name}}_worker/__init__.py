"""Background worker of {{ cookiecutter.project_name }}.

Jobs are queued in Redis (by the API) and run here with arq.
"""
