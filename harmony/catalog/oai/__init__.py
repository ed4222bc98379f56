"""OAI-PMH 2.0 data provider for harvesters, at /oai (GET and form-encoded POST).

Formats `oai_dc` and `dcat_ap` (DCAT-AP RDF/XML); identifiers `oai:<host of BASE_URL>:<PID>`;
sets `group` and `group:<ACRONYM>`; withdrawn datasets are deleted records (persistent); drafts
never appear. Settings: OAI_PAGE_SIZE (default 100), OAI_TOKEN_LIFETIME_SECONDS (default one
day), OAI_ADMIN_EMAIL (default MAIL_FROM), OAI_REPOSITORY_NAME; each also as HARMONY_<name>.
"""
