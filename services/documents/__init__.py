"""Documents vault: uploads checked by content, versions, a per-migrant hash chain, legal hold."""
