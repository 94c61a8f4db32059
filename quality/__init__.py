"""Ingestion, profiling, sensitive-field detection, expectation suites and quality scores.

Entry point for uploads: ``quality.ingest.ingest_file(src, workdir) -> IngestResult``.
Submodules are imported explicitly (``from quality.ingest import ingest_file``) so that importing
the package stays cheap; DuckDB, pyarrow, openpyxl and great_expectations load only when used.
"""
