"""GA4GH Passport visas for live grants, and the keys that sign them.

keys.py   the key file (HARMONY_VISA_KEY_FILE): signing key, rotation, the public JWKS
visas.py  whose passport a request may read, and one signed ControlledAccessGrants visa per live grant
api.py    GET /.well-known/jwks.json and GET /api/v1/permissions/<subject>
cli.py    harmony keys rotate | list
"""
