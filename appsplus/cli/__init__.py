"""The `appsplus` command line: `app` (the click commands), `options` (shared options),
`output` (terminal-aware consoles, progress and one-line errors, shared with `bench`)."""
