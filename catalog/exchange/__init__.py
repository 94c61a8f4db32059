"""The data exchange (大数据交易中心): products, rights, listing review, orders, settlement, sandbox.

Modules: models (tables), products (authorizations, products, review, plans, marketplace),
rights (产权登记 and certificates), orders (contracts, payment, entitlements, disputes, sandbox),
settlement (commission splits, clearing ledger), certificates (signed documents), sandbox (the
k-threshold aggregate engine), stats, settings, ports (what the exchange needs from auth).
"""
