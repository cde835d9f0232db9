"""Apache Airflow provider that gives every Kubernetes task pod a Vault token.

This module imports nothing: the init program and the provider registration both import
the package, and neither may pay for Airflow or Kubernetes imports here.
"""

__version__ = "0.1.0"
