"""A stand-in for a third-party package: being an installed app with a
data_sources.py is all it takes to provide a data source."""
