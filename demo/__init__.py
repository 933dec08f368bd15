"""The bundled demo news sites and the ``newsarchive demo`` command."""
