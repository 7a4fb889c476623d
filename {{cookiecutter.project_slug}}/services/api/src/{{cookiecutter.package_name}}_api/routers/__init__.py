"""HTTP routes, one module per resource; the application factory includes them."""
