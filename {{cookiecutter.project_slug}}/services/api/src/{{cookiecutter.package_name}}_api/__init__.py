"""HTTP API of {{ cookiecutter.project_name }}.

Health checks, the notes resource{% if cookiecutter.use_embedding_model %}, text embeddings{% endif %}{% if cookiecutter.with_worker %}, background jobs{% endif %}.
"""
