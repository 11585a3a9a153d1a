"""`image-widget mcp`: an MCP server that lets an AI assistant generate and edit images on this core.

Images go to the same store with the same records as the widget, the plain functions and sweeps, so what
an assistant makes shows up in a notebook's history. Modules: `__main__` (the command line), `server`
(the tools on the SDK's `MCPServer`), `tools` (what each tool does), `session` (store, backend, budget,
inputs), `paths` (the allowed folders), `previews` (small images for answers).

Nothing is imported here: `image-widget mcp --help` works, and says what to install, without the `mcp`
extra.
"""
