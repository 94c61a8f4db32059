"""Harvesting other portals into the ledger: CKAN Action API, DCAT RDF and DCAT-US data.json.

A HarvestSource names a remote catalog, the organization that owns what is harvested from it, and a
mapping (defaults and field renames). `runner.run_harvest` reads the remote page by page, creates
or updates our datasets through catalog.service (resources as links, files never downloaded),
records each remote id with a content hash so that a second run changes nothing, commits after
each page with a resume cursor, and withdraws datasets that disappeared upstream on a full pass.

Safe defaults (HarvestMapping): harvested entries are drafts with open_type "conditional",
share_type "conditional" and no grade, so nothing is published or opened until a person of the
owning organization grades it; a source may instead declare `publish: true` with a grade that
allows its open type (its administrator's decision, confirmed in the ledger).
"""
