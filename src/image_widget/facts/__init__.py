"""The model facts: which models exist, what each takes (capabilities, validation), their dates
(lifecycle), prices with their sources, and what a request costs. Data and rules only: no I/O beyond
reading the tables, no request path."""
