"""Machine-readable forms of the catalog: DCAT-AP / HealthDCAT-AP RDF, schema.org, sitemap."""
