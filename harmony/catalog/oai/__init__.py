"""OAI-PMH 2.0 data provider for harvesters."""
