"""The catalog: study groups and the FAIR descriptions of their trial datasets."""
