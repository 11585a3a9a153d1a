"""Sweeps: every combination of a prompt template and options. `run` runs them in the notebook
(`iw.sweep`), `batch` sends them to the Batch API (`batch=True`), `budget` checks their cost first; both fill `cells`;
`contact_sheet` draws the grid."""
